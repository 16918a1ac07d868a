/** The tool's version, as package.json says (a test keeps the two equal); Workers-safe, unlike reading the file. */
export const VERSION = "0.1.0";
