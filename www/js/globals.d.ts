// Names the build defines for the page's modules (see .ci/bundle.mjs).
declare const BUNDLED_WIDGET_CSS: string | undefined;
declare const BUNDLED_KATEX_FACES: Array<[string, string, string, string, string]> | undefined;
