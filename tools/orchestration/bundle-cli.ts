import { BUNDLES, type BundleName, buildBundle } from "../../modules/orchestration/lambda-bundle";

const kb = (n: number) => `${(n / 1024).toFixed(0)} KiB`;

// Prints each bundle's size, hash and largest inputs (what a cold start loads): `npm run orchestration:bundles`.
for (const name of Object.keys(BUNDLES) as BundleName[]) {
  const started = Date.now();
  const b = buildBundle(name);
  process.stdout.write(
    `${name.padEnd(18)} zip ${kb(b.zipBytes).padStart(9)}  code ${kb(b.codeBytes).padStart(9)}  ` +
      `sha256 ${b.sourceCodeHash}  (${Date.now() - started} ms)\n` +
      `${b.largestInputs.map((i) => `    ${kb(i.bytes).padStart(9)}  ${i.path}`).join("\n")}\n`,
  );
}
