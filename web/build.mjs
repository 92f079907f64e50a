// Builds dist/tubo.js and dist/tubo.css from src/ with esbuild (npm run
// build), or into the directory given as the first argument (the Go test
// builds into a temporary one and compares it with dist/).
import * as esbuild from "esbuild";

const out = process.argv[2] || "dist";
const common = { bundle: true, minify: true, logLevel: "warning", legalComments: "eof" };
await esbuild.build({ ...common, entryPoints: ["src/main.js"], format: "iife", target: "es2020", outfile: `${out}/tubo.js` });
await esbuild.build({ ...common, entryPoints: ["src/style.css"], outfile: `${out}/tubo.css` });
