/** The folder of the built page bundles (api/ui/dist). */
export const UI_DIST: string;
/** Bundles the modeler page's editor into api/ui/dist (see build-ui.mjs). */
export function buildUi(): Promise<void>;
