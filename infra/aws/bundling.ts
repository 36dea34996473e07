/**
 * How a pipeline function is bundled for Lambda: one set of esbuild
 * options, read by the function construct (through `NodejsFunction`'s
 * bundling) and by tests that bundle the same entry with esbuild
 * directly to inspect what it carries.
 *
 * The bundle is an ES module for Node.js 22, minified, with a source
 * map and a metafile. The AWS SDK v3 stays out: the Lambda runtime has
 * it. So do the providers that need other clients or native modules:
 * the provider registry loads each with a dynamic import of a literal
 * path, which esbuild would otherwise follow and bundle, NATS client and
 * SQLite binding included. Left external, those imports stay in the
 * bundle as they are and run only if configuration selects such a
 * provider, which then fails to load on Lambda: a function there runs
 * on `aws` (or `memory`).
 */
import type { BundlingOptions } from 'aws-cdk-lib/aws-lambda-nodejs';
import { OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';

/**
 * Providers a Lambda function never runs on, as the registry imports
 * them (`src/config/registry.ts`).
 */
export const UNBUNDLED_PROVIDERS: readonly string[] = [
  'local',
  'nats',
  'redis',
  'gcp',
  'azure',
  'zeromq',
];

/** Modules left out of the bundle. */
export const EXTERNAL_MODULES: readonly string[] = [
  '@aws-sdk/*',
  ...UNBUNDLED_PROVIDERS.map((name) => `../providers/${name}/*`),
];

/** The esbuild target of the Lambda runtime. */
export const BUNDLE_TARGET = 'node22';

/**
 * Gives bundled CommonJS code a `require` in an ES module, so that its
 * `require` of Node.js built-ins works.
 */
export const BUNDLE_BANNER =
  "import { createRequire as __switchyardRequire } from 'node:module'; const require = __switchyardRequire(import.meta.url);";

/** Where esbuild looks in a package's manifest, ES modules first. */
export const MAIN_FIELDS: readonly string[] = ['module', 'main'];

/**
 * The bundling options of a pipeline function's `NodejsFunction`:
 * local esbuild only, never Docker.
 */
export function lambdaBundling(): BundlingOptions {
  return {
    forceDockerBundling: false,
    format: OutputFormat.ESM,
    target: BUNDLE_TARGET,
    minify: true,
    sourceMap: true,
    metafile: true,
    banner: BUNDLE_BANNER,
    mainFields: [...MAIN_FIELDS],
    externalModules: [...EXTERNAL_MODULES],
  };
}

/**
 * The same options in the shape of esbuild's `build()`, for `entry`
 * bundled to `outfile`.
 */
export function esbuildOptions(entry: string, outfile: string) {
  return {
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node' as const,
    format: 'esm' as const,
    target: BUNDLE_TARGET,
    minify: true,
    sourcemap: true,
    metafile: true,
    banner: { js: BUNDLE_BANNER },
    mainFields: [...MAIN_FIELDS],
    external: [...EXTERNAL_MODULES],
  };
}
