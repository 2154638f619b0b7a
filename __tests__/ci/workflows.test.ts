// The GitHub workflows' invariants, as checks over the parsed YAML: actions pinned by commit SHA, the project's
// tests before any plan or apply, plans without a state lock, applies only in their protected GitHub
// environment, a scheduled drift plan, Node.js from .nvmrc, dependabot for npm, pip and actions. A mutation
// table weakens the parsed files and each weakening must make its check fail.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { CI_WORKFLOW_PATH } from "../../modules/access";
import { loadConfig } from "../../modules/config";

const root = join(__dirname, "..", "..");

// biome-ignore lint/suspicious/noExplicitAny: parsed YAML is untyped; the checks walk it defensively.
type Yaml = any;

interface Repo {
  /** Workflow and composite-action files by repository path, parsed. */
  readonly files: Record<string, Yaml>;
  /** The same files as text (for the version comments next to pinned SHAs). */
  readonly text: Record<string, string>;
  readonly nvmrc: string;
  readonly dependabot: Yaml;
}

function loadRepo(): Repo {
  const paths = [
    ...readdirSync(join(root, ".github", "workflows")).map((f) => `.github/workflows/${f}`),
    ...readdirSync(join(root, ".github", "actions")).map((d) => `.github/actions/${d}/action.yml`),
  ];
  const text = Object.fromEntries(paths.map((p) => [p, readFileSync(join(root, p), "utf8")]));
  return {
    files: Object.fromEntries(paths.map((p) => [p, parse(text[p] as string)])),
    text,
    nvmrc: readFileSync(join(root, ".nvmrc"), "utf8"),
    dependabot: parse(readFileSync(join(root, ".github", "dependabot.yml"), "utf8")),
  };
}

const workflows = (repo: Repo) =>
  Object.entries(repo.files).filter(([p]) => p.startsWith(".github/workflows/"));
const jobsOf = (doc: Yaml): Array<[string, Yaml]> => Object.entries(doc?.jobs ?? {});
const stepsOf = (doc: Yaml): Yaml[] => [
  ...jobsOf(doc).flatMap(([, job]) => job.steps ?? []),
  ...(doc?.runs?.steps ?? []),
];
const allSteps = (repo: Repo) => Object.values(repo.files).flatMap(stepsOf);
const runsTerraform = (job: Yaml, command: string) =>
  (job.steps ?? []).some((s: Yaml) => typeof s.run === "string" && s.run.includes(`terraform ${command}`));
const callsLakeWorkflow = (job: Yaml) => job.uses === `./${CI_WORKFLOW_PATH}`;

/** Every job a job waits for, directly or through other jobs. */
function transitiveNeeds(doc: Yaml, name: string, seen = new Set<string>()): Set<string> {
  for (const need of [doc.jobs?.[name]?.needs ?? []].flat() as string[]) {
    if (seen.has(need)) continue;
    seen.add(need);
    transitiveNeeds(doc, need, seen);
  }
  return seen;
}

interface Check {
  readonly id: string;
  readonly claim: string;
  readonly violations: (repo: Repo) => string[];
}

const CHECKS: readonly Check[] = [
  {
    id: "actions-pinned",
    claim: "every action outside the repository is pinned by a full commit SHA, its version in a comment",
    violations(repo) {
      const out: string[] = [];
      for (const [path, doc] of Object.entries(repo.files)) {
        const uses = [...stepsOf(doc).map((s) => s.uses), ...jobsOf(doc).map(([, job]) => job.uses)].filter(
          (u): u is string => typeof u === "string" && !u.startsWith("./"),
        );
        for (const u of uses) {
          if (!/^[\w.-]+\/[\w./-]+@[0-9a-f]{40}$/.test(u)) out.push(`${path}: ${u} is not pinned by SHA`);
          else if (
            !new RegExp(`${u.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")} # v\\d+(\\.\\d+)*\\s*$`, "m").test(
              repo.text[path] ?? "",
            )
          ) {
            out.push(`${path}: ${u} has no "# vX.Y.Z" comment`);
          }
        }
      }
      return out;
    },
  },
  {
    id: "tests-before-plan-and-apply",
    claim: "every plan and apply job waits for the job that runs the project's tests (make test)",
    violations(repo) {
      const out: string[] = [];
      for (const [path, doc] of workflows(repo)) {
        const testJobs = jobsOf(doc)
          .filter(([, job]) =>
            (job.steps ?? []).some((s: Yaml) =>
              /(^|\s)(\.ci\/run|make test)(\s|$)/.test(String(s.run ?? "")),
            ),
          )
          .map(([name]) => name);
        for (const [name, job] of jobsOf(doc)) {
          if (!callsLakeWorkflow(job) || !["plan", "apply"].includes(job.with?.mode)) continue;
          const needs = transitiveNeeds(doc, name);
          if (!testJobs.some((t) => needs.has(t))) out.push(`${path}: ${name} runs before the tests`);
        }
      }
      if (
        !workflows(repo).some(([, doc]) =>
          jobsOf(doc).some(([, job]) => callsLakeWorkflow(job) && job.with?.mode === "apply"),
        )
      ) {
        out.push("no workflow applies the lake");
      }
      return out;
    },
  },
  {
    id: "plans-take-no-lock",
    claim: "jobs outside a GitHub environment never apply, and their plans run with -lock=false",
    violations(repo) {
      const lake = repo.files[CI_WORKFLOW_PATH];
      const out: string[] = [];
      const planJobs = jobsOf(lake).filter(([, job]) => job.environment === undefined);
      if (planJobs.length === 0 || !planJobs.some(([, job]) => runsTerraform(job, "plan")))
        out.push("no plan job");
      for (const [name, job] of planJobs) {
        if (runsTerraform(job, "apply")) out.push(`${name} applies outside an environment`);
        for (const s of job.steps ?? []) {
          const plans = String(s.run ?? "").match(/terraform plan[^\n]*/g) ?? [];
          for (const p of plans)
            if (!p.includes("-lock=false")) out.push(`${name}: "${p}" takes the state lock`);
        }
      }
      return out;
    },
  },
  {
    id: "applies-in-their-environment",
    claim: "applies run only in the GitHub environment that config/<env>.json names in ci.deployEnvironment",
    violations(repo) {
      const lake = repo.files[CI_WORKFLOW_PATH];
      const out: string[] = [];
      for (const [name, job] of jobsOf(lake).filter(([, j]) => runsTerraform(j, "apply"))) {
        const env = job.environment?.name ?? job.environment;
        // biome-ignore lint/suspicious/noTemplateCurlyInString: a GitHub Actions expression, not a template.
        if (env !== "${{ inputs.github-environment }}")
          out.push(`${name} applies outside the input environment (${env})`);
      }
      for (const [path, doc] of workflows(repo)) {
        for (const [name, job] of jobsOf(doc).filter(
          ([, j]) => callsLakeWorkflow(j) && j.with?.mode === "apply",
        )) {
          const expected = loadConfig(job.with.environment, { env: {} }).ci.deployEnvironment;
          if (job.with["github-environment"] !== expected) {
            out.push(
              `${path}: ${name} applies in "${job.with["github-environment"]}", config says "${expected}"`,
            );
          }
        }
      }
      return out;
    },
  },
  {
    id: "scheduled-drift-plan",
    claim:
      "a scheduled workflow plans dev and prod for drift, and a difference fails the run (-detailed-exitcode)",
    violations(repo) {
      const drift = workflows(repo).filter(([, doc]) =>
        [doc.on?.schedule ?? []].flat().some((s: Yaml) => s?.cron),
      );
      const environments = drift.flatMap(([, doc]) =>
        jobsOf(doc)
          .filter(([, job]) => callsLakeWorkflow(job) && job.with?.mode === "drift")
          .map(([, job]) => job.with.environment),
      );
      const out: string[] = [];
      for (const env of ["dev", "prod"])
        if (!environments.includes(env)) out.push(`no scheduled drift plan of ${env}`);
      const plans = stepsOf(repo.files[CI_WORKFLOW_PATH])
        .map((s) => String(s.run ?? ""))
        .filter((r) => r.includes("terraform plan"));
      if (
        !plans.some(
          (r) =>
            r.includes("-detailed-exitcode") &&
            /"\$code" = 2 \] && \[ "\$\{\{ inputs\.mode \}\}" = drift \]/.test(r),
        )
      ) {
        out.push("the drift plan does not fail on changes");
      }
      return out;
    },
  },
  {
    id: "node-from-nvmrc",
    claim: "Node.js 22 comes from .nvmrc in every setup-node step",
    violations(repo) {
      const out: string[] = [];
      if (repo.nvmrc.trim() !== "22") out.push(`.nvmrc says ${repo.nvmrc.trim()}`);
      const setups = allSteps(repo).filter((s) => String(s.uses ?? "").startsWith("actions/setup-node@"));
      if (setups.length === 0) out.push("no setup-node step");
      for (const s of setups) {
        if (s.with?.["node-version-file"] !== ".nvmrc" || s.with?.["node-version"] !== undefined) {
          out.push(`setup-node with ${JSON.stringify(s.with)}`);
        }
      }
      return out;
    },
  },
  {
    id: "dependabot",
    claim: "dependabot proposes updates for npm, pip and every directory holding pinned actions",
    violations(repo) {
      const updates: Yaml[] = repo.dependabot?.updates ?? [];
      const out: string[] = [];
      for (const ecosystem of ["npm", "pip", "github-actions"]) {
        if (!updates.some((u) => u["package-ecosystem"] === ecosystem)) out.push(`no ${ecosystem} updates`);
      }
      const actionDirs = updates
        .filter((u) => u["package-ecosystem"] === "github-actions")
        .flatMap((u) => [u.directory ?? [], u.directories ?? []].flat());
      for (const path of Object.keys(repo.files).filter((p) => p.startsWith(".github/actions/"))) {
        const dir = `/${path.replace(/\/action\.yml$/, "")}`;
        if (!actionDirs.includes(dir)) out.push(`dependabot misses ${dir}`);
      }
      return out;
    },
  },
];

const repo = loadRepo();

describe("the workflows", () => {
  it.each(CHECKS.map((c) => [c.claim, c] as const))("%s", (_claim, check) => {
    expect(check.violations(repo)).toEqual([]);
  });

  it("include the pipeline workflow the CI roles trust, callable by the others", () => {
    expect(existsSync(join(root, CI_WORKFLOW_PATH))).toBe(true);
    expect(Object.keys(repo.files[CI_WORKFLOW_PATH]?.on ?? {})).toEqual(["workflow_call"]);
    // No other workflow asks AWS for credentials: the roles would refuse its tokens anyway.
    const credentialSteps = Object.entries(repo.files).filter(([, doc]) =>
      stepsOf(doc).some((s) => String(s.uses ?? "").startsWith("aws-actions/configure-aws-credentials@")),
    );
    expect(credentialSteps.map(([p]) => p)).toEqual([CI_WORKFLOW_PATH]);
  });
});

describe("python lock files", () => {
  it.each(["requirements", "requirements-checkov"])(
    "%s.lock holds the versions its .in file pins",
    (name) => {
      const pins = readFileSync(join(root, `${name}.in`), "utf8")
        .split("\n")
        .map((l) => l.replace(/#.*/, "").trim())
        .filter(Boolean);
      const lock = readFileSync(join(root, `${name}.lock`), "utf8");
      for (const pin of pins) {
        const [pkg, version] = pin.split("==") as [string, string | undefined];
        const base = pkg.replace(/\[.*\]$/, "").toLowerCase();
        expect({ pin, locked: new RegExp(`^${base}==${version ?? "[^\\s]+"}$`, "mi").test(lock) }).toEqual({
          pin,
          locked: true,
        });
      }
    },
  );
});

// Each weakening edits a copy of the parsed files; the named check must then report it.
const MUTATIONS: ReadonlyArray<{ weakening: string; caughtBy: string; apply: (repo: Repo) => void }> = [
  {
    weakening: "an action pinned by a tag",
    caughtBy: "actions-pinned",
    apply: (r) => {
      r.files[".github/workflows/infrastructure.yml"].jobs.test.steps[0].uses = "actions/checkout@v4";
    },
  },
  {
    weakening: "the prod plan no longer waits for the tests",
    caughtBy: "tests-before-plan-and-apply",
    apply: (r) => {
      r.files[".github/workflows/infrastructure.yml"].jobs["plan-prod"].needs = ["verify"];
    },
  },
  {
    weakening: "the dev apply no longer waits for the tests",
    caughtBy: "tests-before-plan-and-apply",
    apply: (r) => {
      r.files[".github/workflows/infrastructure.yml"].jobs["apply-dev"].needs = ["verify"];
    },
  },
  {
    weakening: "the pull-request plan takes the state lock",
    caughtBy: "plans-take-no-lock",
    apply: (r) => {
      for (const s of r.files[CI_WORKFLOW_PATH].jobs.plan.steps) {
        if (typeof s.run === "string") s.run = s.run.replace(" -lock=false", "");
      }
    },
  },
  {
    weakening: "the apply job runs outside its GitHub environment",
    caughtBy: "applies-in-their-environment",
    apply: (r) => {
      delete r.files[CI_WORKFLOW_PATH].jobs.apply.environment;
    },
  },
  {
    weakening: "prod applies in the dev environment",
    caughtBy: "applies-in-their-environment",
    apply: (r) => {
      r.files[".github/workflows/infrastructure.yml"].jobs["apply-prod"].with["github-environment"] = "dev";
    },
  },
  {
    weakening: "the drift plan loses its schedule",
    caughtBy: "scheduled-drift-plan",
    apply: (r) => {
      r.files[".github/workflows/drift.yml"].on = { workflow_dispatch: null };
    },
  },
  {
    weakening: "Node.js pinned in a workflow instead of .nvmrc",
    caughtBy: "node-from-nvmrc",
    apply: (r) => {
      r.files[".github/workflows/infrastructure.yml"].jobs.test.steps[1].with = { "node-version": 20 };
    },
  },
  {
    weakening: "dependabot without pip",
    caughtBy: "dependabot",
    apply: (r) => {
      (r as { dependabot: Yaml }).dependabot.updates = r.dependabot.updates.filter(
        (u: Yaml) => u["package-ecosystem"] !== "pip",
      );
    },
  },
];

describe("every weakening of the workflows is caught", () => {
  it("covers every check", () => {
    expect(CHECKS.map((c) => c.id).filter((id) => !MUTATIONS.some((m) => m.caughtBy === id))).toEqual([]);
  });

  it.each(MUTATIONS.map((m) => [m.weakening, m] as const))("%s", (_weakening, mutation) => {
    const mutated = structuredClone(repo);
    mutation.apply(mutated);
    const check = CHECKS.find((c) => c.id === mutation.caughtBy);
    expect(check?.violations(mutated).length ?? 0).toBeGreaterThan(0);
  });
});
