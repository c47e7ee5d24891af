/**
 * The TV app as one file for the older browsers inside TVs (ES2017, one
 * minified IIFE, no framework), bundled from its TypeScript sources by
 * esbuild: ahead of time by `npm run build` (dist/tv/app.js), or, when tvpay
 * runs from its sources (tests, development), once per process.
 */
export async function bundleTvApp(entry: string, outfile?: string): Promise<string> {
  // Loaded only when bundling: a compiled tvpay serves the prebuilt file and never loads esbuild.
  const { build } = await import('esbuild');
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    minify: true,
    format: 'iife',
    target: ['es2017', 'chrome56'],
    write: outfile !== undefined,
    outfile,
    legalComments: 'none',
  });
  return outfile === undefined ? result.outputFiles![0]!.text : '';
}
