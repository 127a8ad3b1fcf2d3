// Allure 3 configuration for mathif-pytest results; the command and the history setup are in
// docs/allure.md. A plain object: nothing here imports the `allure` package.
//
// mathif-pytest writes two files for this configuration into the results directory:
// mathif-report.json (the gate's verdict and thresholds) and categories.json (the failure
// taxonomy). They give the report its name, its quality gate and its categories.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

// The directory given to `pytest --alluredir`.
const resultsDir = process.env.MATHIF_ALLURE_RESULTS ?? "allure-results";
// One JSON line per generated report: keep this file between runs (a CI cache or artifact)
// and every report shows each case's history and the trends across checkpoints.
const historyPath = process.env.MATHIF_ALLURE_HISTORY ?? "./allure-history.jsonl";
// The history keeps the last N reports (default 20), so the file and every report stay small.
const historyLimit = Number.parseInt(process.env.MATHIF_ALLURE_HISTORY_LIMIT ?? "20", 10);
const plugin = fileURLToPath(new URL("./allure-mathif-plugin.mjs", import.meta.url));

const readJson = (name) => {
  const file = join(resultsDir, name);
  return existsSync(file) ? JSON.parse(readFileSync(file, "utf-8")) : undefined;
};
const escapeRegex = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

// categories.json is Allure 2's format, and Allure 3's report reads categories from this config
// only: convert each one, matching a failure by the `mathif_failure` label that mathif-pytest
// puts on a failed case (truncation never shows in a message) or by its message. Each category
// lists its cases directly (messages differ per case: grouping by them makes groups of one).
function mathifCategories(categories) {
  return categories?.map((category) => ({
    name: category.name,
    groupByMessage: false,
    matchers: [
      {
        statuses: category.matchedStatuses,
        labels: { mathif_failure: `^${escapeRegex(category.name)}$` },
      },
      { statuses: category.matchedStatuses, message: category.messageRegex },
    ],
  }));
}

// Allure 3's quality gate, one rule per gate threshold of the run: mathif-pytest has judged
// each (paired tests for delta.* thresholds), so a rule reports that verdict and links the
// samples that got worse. `npx allure quality-gate allure-results` exits 1 when one failed.
function mathifQualityGate(report) {
  if (!report?.gate?.length) {
    return undefined;
  }
  const use = report.gate.map((row) => ({
    rule: row.rule,
    message: () => row.message,
    successMessage: () => row.message,
    validate: async () => ({
      success: row.success,
      actual: row.actual,
      testResults: row.testResults,
    }),
  }));
  return { rules: [Object.fromEntries(report.gate.map((row) => [row.rule, row.expected]))], use };
}

const mathif = readJson("mathif-report.json");
const qualityGate = mathifQualityGate(mathif);
const label = process.env.MATHIF_ALLURE_NAME ?? `MathIF ${mathif?.suites?.join(", ") ?? ""}`.trim();
const name = mathif
  ? `${label}: ${mathif.passed ? "passed" : "FAILED"} (exit status ${mathif.exitStatus})`
  : label;

export default {
  name,
  output: "./allure-report",
  historyPath,
  historyLimit,
  categories: mathifCategories(readJson("categories.json")),
  qualityGate,
  plugins: {
    // Evaluates the quality gate at `allure generate` too (before the report is written).
    "mathif-gate": { import: plugin, options: { qualityGate } },
    awesome: {
      options: {
        singleFile: true,
        reportLanguage: "en",
        groupBy: ["parentSuite", "suite", "subSuite"],
      },
    },
    // Removes the analytics tag of Allure's template from the written report.
    "mathif-privacy": { import: plugin, options: { stripAnalytics: true } },
  },
};
