import { existsSync, readdirSync, readFileSync } from "node:fs";
import { basename, join } from "node:path";

/** Sub-folders of `sql/` whose files become Athena named queries. */
export const SQL_FOLDERS = ["analytics", "views", "smoke"] as const;

export interface SqlFile {
  /** `<folder>/<file stem>`, e.g. `smoke/row_counts`: the named query's name. */
  readonly name: string;
  readonly folder: (typeof SQL_FOLDERS)[number];
  readonly description: string;
  readonly sql: string;
}

const DESCRIPTION = /^--\s*description:\s*(.+)$/m;
const NAME_LIMIT = 128;
const DESCRIPTION_LIMIT = 1024;

/** Every `.sql` file under `sql/{analytics,views,smoke}/`, in a stable order. */
export function readSqlFiles(sqlDir: string): SqlFile[] {
  return SQL_FOLDERS.flatMap((folder) => {
    const dir = join(sqlDir, folder);
    if (!existsSync(dir)) return [];
    return readdirSync(dir)
      .filter((file) => file.endsWith(".sql"))
      .sort()
      .map((file) => {
        const name = `${folder}/${basename(file, ".sql")}`;
        const sql = readFileSync(join(dir, file), "utf8");
        if (sql.trim() === "")
          throw new Error(`sql/${folder}/${file} is empty; a named query needs SQL text.`);
        if (name.length > NAME_LIMIT) {
          throw new Error(
            `sql/${folder}/${file}: named query name "${name}" exceeds Athena's ${NAME_LIMIT} characters.`,
          );
        }
        const description = (sql.match(DESCRIPTION)?.[1].trim() ?? `Query from sql/${folder}/${file}`).slice(
          0,
          DESCRIPTION_LIMIT,
        );
        return { name, folder, description, sql };
      });
  });
}

/**
 * Terraform evaluates `${...}` and `%{...}` in every string; SQL text must reach Athena verbatim, so
 * those sequences are escaped (`$${`, `%%{`).
 */
export function escapeTerraformTemplate(text: string): string {
  return text.replace(/\$\{/g, "$${").replace(/%\{/g, "%%{");
}
