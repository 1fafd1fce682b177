import pkg from "../../package.json" with { type: "json" };

export const SOFTWARE_NAME = "hyphae";
export const SOFTWARE_VERSION: string = pkg.version;
export const SOURCE_URL = "https://github.com/hyphae-pods/hyphae";
