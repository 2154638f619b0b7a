import { existsSync } from "node:fs";
import { join, resolve } from "node:path";

// The CMS material the tests read from outside the project: ../shared/open-payments next to the checkout, or
// $LAKE_SHARED_DIR/open-payments. `make test` checks it first (scripts/check-test-prereqs.sh); run directly, a
// missing folder fails here with the same advice instead of a file-not-found inside a test.
const repoRoot = resolve(__dirname, "..", "..");
const shared = resolve(repoRoot, process.env.LAKE_SHARED_DIR ?? join("..", "shared"));

/** `<shared>/open-payments`: layouts/, samples/, real/. */
export const openPaymentsDir = join(shared, "open-payments");

if (!existsSync(openPaymentsDir)) {
  throw new Error(
    `test data missing: ${openPaymentsDir} does not exist. The tests read CMS layouts and real CMS files from ` +
      "../shared/open-payments next to the checkout; put it there or set LAKE_SHARED_DIR " +
      "(scripts/check-test-prereqs.sh lists what is needed).",
  );
}
