// What the example page (www/embed-example.html) loads under npm run serve, where www/ itself is
// served: the page's own bundle (www/bundle/, built by npm run build and rebuilt on every edit)
// standing in for the widget folder that npm run dist writes and that an author copies next to
// their page (node .ci/dist.mjs --example DIR puts the real one there). The bundle finds the
// core, KaTeX and its stylesheet relative to itself (../pkg/, ../vendor/, ./widget.css).
import '../bundle/main.js';
