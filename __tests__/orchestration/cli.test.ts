import { main } from "../../tools/orchestration/cli";

describe("orchestration CLI", () => {
  it("refuses a --files path that does not exist, naming it, with the usage exit code", async () => {
    const err = jest.spyOn(process.stderr, "write").mockImplementation(() => true);
    try {
      expect(
        await main(["demo", "--files", "/nonexistent/OP_DTL_GNRL_PGYR2023_P01302025_01212025.csv"]),
      ).toBe(2);
      expect(err.mock.calls.map((c) => String(c[0])).join("")).toMatch(
        /orchestration: error: --files \/nonexistent\/OP_DTL_GNRL_PGYR2023_P01302025_01212025\.csv: no such file/,
      );
    } finally {
      err.mockRestore();
    }
  });
});
