// An Allure 3 plugin for mathif-pytest reports, configured by allurerc.mjs (see docs/allure.md).
//
// It does two things that Allure 3.18 offers no switch for:
// 1. Quality gate at `allure generate`. Only `allure run` and `allure quality-gate` evaluate the
//    configured `qualityGate`; `allure generate` shows "Quality Gates 0" (allure-framework
//    discussion #3441). Listed before the awesome plugin, this evaluates the same rules the same
//    way and hands the results to the report.
// 2. Privacy. The awesome template always embeds a Google Analytics tag (googletagmanager.com).
//    Listed after the awesome plugin, this removes it from the written index.html.
import { readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";

// The analytics loader and the inline script that configures it, as Allure 3.18 writes them.
const ANALYTICS = [
  /<script[^>]*src="https:\/\/www\.googletagmanager\.com\/[^"]*"[^>]*>\s*<\/script>/g,
  /<script>\s*window\.dataLayer[\s\S]*?<\/script>/g,
];

export default class MathifPlugin {
  constructor(options = {}) {
    this.options = options;
  }

  async done(context, store) {
    if (this.options.qualityGate) {
      await addQualityGateResults(store, this.options.qualityGate);
    }
    if (this.options.stripAnalytics) {
      await stripAnalytics(context.output);
    }
  }
}

// Each rule of the configured quality gate, validated as Allure's own QualityGate does; skipped
// when results exist already (`allure run` evaluated the gate itself).
async function addQualityGateResults(store, { rules = [], use = [] }) {
  if ((await store.qualityGateResults()).length > 0) {
    return;
  }
  const results = [];
  for (const ruleset of rules) {
    for (const [name, expected] of Object.entries(ruleset)) {
      const rule = use.find((candidate) => candidate.rule === name);
      const result = await rule.validate({ trs: [], expected, metrics: [], previousHistory: [] });
      const message = (result.success ? rule.successMessage : rule.message)({
        actual: result.actual,
        expected,
      });
      results.push({ ...result, expected, rule: name, message, environment: undefined });
    }
  }
  // The store takes quality-gate results from `allure run`'s realtime channel or from a dump;
  // a dump that holds nothing else adds them and leaves the rest as it is.
  await store.restoreState({
    testResults: {},
    attachments: {},
    testCases: {},
    fixtures: {},
    environments: [],
    reportVariables: {},
    checkResults: {},
    qualityGateResults: results,
  });
}

async function stripAnalytics(output) {
  for (const file of await indexFiles(output, 2)) {
    const html = await readFile(file, "utf-8");
    const stripped = ANALYTICS.reduce((text, pattern) => text.replace(pattern, ""), html);
    if (stripped !== html) {
      await writeFile(file, stripped);
    }
  }
}

async function indexFiles(directory, depth) {
  const found = [];
  for (const entry of await readdir(directory, { withFileTypes: true })) {
    const path = join(directory, entry.name);
    if (entry.isFile() && entry.name === "index.html") {
      found.push(path);
    } else if (entry.isDirectory() && depth > 0) {
      found.push(...(await indexFiles(path, depth - 1)));
    }
  }
  return found;
}
