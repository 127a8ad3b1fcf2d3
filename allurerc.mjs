// Allure 3 configuration for mathif-pytest results; the command and the history setup are in
// docs/allure.md. A plain object: nothing here imports the `allure` package.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";

// The directory given to `pytest --alluredir` (where categories.json is written).
const resultsDir = process.env.MATHIF_ALLURE_RESULTS ?? "allure-results";
// One JSON line per generated report: keep this file between runs (a CI cache or artifact)
// and every report shows each case's history and the trends across checkpoints.
const historyPath = process.env.MATHIF_ALLURE_HISTORY ?? "./allure-history.jsonl";

const escapeRegex = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

// categories.json is Allure 2's format, and Allure 3's report reads categories from this config
// only: convert each one, matching a failure by its message or by the `mathif_failure` label
// that mathif-pytest puts on a failed case (truncation never shows in a message).
function mathifCategories(directory) {
  const file = join(directory, "categories.json");
  if (!existsSync(file)) {
    return undefined;
  }
  return JSON.parse(readFileSync(file, "utf-8")).map((category) => ({
    name: category.name,
    matchers: [
      { statuses: category.matchedStatuses, message: category.messageRegex },
      {
        statuses: category.matchedStatuses,
        labels: { mathif_failure: `^${escapeRegex(category.name)}$` },
      },
    ],
  }));
}

export default {
  name: "MathIF",
  output: "./allure-report",
  historyPath,
  categories: mathifCategories(resultsDir),
  plugins: {
    awesome: {
      options: {
        singleFile: true,
        reportLanguage: "en",
        groupBy: ["parentSuite", "suite", "subSuite"],
      },
    },
  },
};
