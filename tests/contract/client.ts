// A small program written the way a frontend developer would write it: the
// types come from the API's own OpenAPI document (generated/schema.d.ts, made
// by openapi-typescript from /api-docs/openapi.json), the calls go through
// openapi-fetch. If the document and the server disagree, or the document is
// not usable from strict TypeScript, this fails to compile or exits 1.
//
//   node dist/client.js http://127.0.0.1:18080

import createClient from "openapi-fetch";
import type { paths } from "./generated/schema.js";

function fail(message: string): never {
  console.error(`contract client: FAIL: ${message}`);
  process.exit(1);
}

// What came back on an error: openapi-fetch types it as the documented problem
// body, but at run time it can be anything (an empty string for a 304, text
// from a proxy), so it is looked at as `unknown`.
function describe(status: number, error: unknown): string {
  if (typeof error === "object" && error !== null) {
    const code = "code" in error && typeof error.code === "string" ? error.code : "?";
    const detail = "detail" in error && typeof error.detail === "string" ? error.detail : "";
    return `HTTP ${status} ${code}: ${detail}`;
  }
  return `HTTP ${status}: ${JSON.stringify(error)}`;
}

const baseUrl = process.argv[2];
if (baseUrl === undefined || !/^https?:\/\//.test(baseUrl)) {
  fail("usage: node dist/client.js BASE_URL (e.g. http://127.0.0.1:18080)");
}

const client = createClient<paths>({
  baseUrl: baseUrl.replace(/\/+$/, ""),
  // The document says `style: form, explode: false` for arrays (sort=a,b)
  // and `style: deepObject, explode: true` for filters (parent[eq]=x).
  querySerializer: {
    array: { style: "form", explode: false },
    object: { style: "deepObject", explode: true },
  },
});

async function main(): Promise<void> {
  // 1. One page.
  const page = await client.GET("/api/v1/pages/{slug}", {
    params: { path: { slug: "mission" } },
  });
  if (page.error !== undefined) {
    fail(`GET /api/v1/pages/mission: ${describe(page.response.status, page.error)}`);
  }
  // openapi-fetch's types promise `data` once `error` is undefined; at run time
  // a 2xx other than the documented 200 (a 204, an empty body) gives none.
  if (page.response.status !== 200) {
    fail(`GET /api/v1/pages/mission: HTTP ${page.response.status}, expected 200`);
  }
  // Translatable, so null where a locale lacks it and no fallback is asked for.
  const title: string | null | undefined = page.data.title;
  if (title !== "Mission") {
    fail(`GET /api/v1/pages/mission: title is ${JSON.stringify(title)}, expected "Mission"`);
  }

  // 1a. The same page again, revalidated: the client knows If-None-Match, and a
  // 304 (which openapi-fetch hands back as an error) is told by its status.
  const etag = page.response.headers.get("etag");
  if (etag === null) {
    fail(`GET /api/v1/pages/mission: no ETag`);
  }
  const again = await client.GET("/api/v1/pages/{slug}", {
    params: { path: { slug: "mission" }, header: { "If-None-Match": etag } },
  });
  if (again.response.status !== 304) {
    fail(`GET /api/v1/pages/mission with If-None-Match: HTTP ${again.response.status}, expected 304`);
  }

  // 1b. The same page in a locale: the client knows `locale` and the item's `meta`.
  // The sample content has no translations, so the title falls back to English.
  const localised = await client.GET("/api/v1/pages/{slug}", {
    params: { path: { slug: "mission" }, query: { locale: "sr-Latn" } },
  });
  if (localised.error !== undefined || localised.response.status !== 200) {
    fail(`GET /api/v1/pages/mission?locale=sr-Latn: HTTP ${localised.response.status}`);
  }
  const fallbacks: { [field: string]: string } | undefined = localised.data.meta?.fallbacks;
  if (localised.data.meta?.locale !== "sr-Latn" || fallbacks?.title !== "en") {
    fail(`GET /api/v1/pages/mission?locale=sr-Latn: meta is ${JSON.stringify(localised.data.meta)}`);
  }
  if (localised.data.title !== "Mission") {
    fail(`GET /api/v1/pages/mission?locale=sr-Latn: title is ${JSON.stringify(localised.data.title)}`);
  }
  if (localised.response.headers.get("content-language") !== "sr-Latn") {
    fail(`GET /api/v1/pages/mission?locale=sr-Latn: Content-Language is ${localised.response.headers.get("content-language")}`);
  }

  // 2. A filtered, sorted list.
  const list = await client.GET("/api/v1/pages", {
    params: {
      query: { parent: "who-we-are", sort: ["position"], per_page: 10 },
    },
  });
  const listUrl = new URL(list.response.url);
  const wantQuery = "parent=who-we-are&sort=position&per_page=10";
  if (decodeURIComponent(listUrl.search) !== `?${wantQuery}`) {
    fail(`GET /api/v1/pages: the query was serialised as ${listUrl.search}, expected ?${wantQuery}`);
  }
  if (list.error !== undefined) {
    fail(`GET /api/v1/pages?${wantQuery}: ${describe(list.response.status, list.error)}`);
  }
  if (list.response.status !== 200) {
    fail(`GET /api/v1/pages?${wantQuery}: HTTP ${list.response.status}, expected 200`);
  }
  const items = list.data.data;
  const total = list.data.meta.total;
  if (!Array.isArray(items)) {
    fail(`GET /api/v1/pages: data is not an array`);
  }
  if (typeof total !== "number") {
    fail(`GET /api/v1/pages: meta.total is ${JSON.stringify(total)}, not a number`);
  }
  if (items.length < 5) {
    fail(`GET /api/v1/pages?${wantQuery}: ${items.length} items, expected at least 5`);
  }
  if (total < items.length) {
    fail(`GET /api/v1/pages: meta.total ${total} is less than the ${items.length} items on the page`);
  }
  const slugs: string[] = [];
  let lastPosition = Number.NEGATIVE_INFINITY;
  for (const [i, item] of items.entries()) {
    if (typeof item.slug !== "string") {
      fail(`GET /api/v1/pages: data[${i}].slug is ${JSON.stringify(item.slug)}, not a string`);
    }
    if (item.parent !== "who-we-are") {
      fail(`GET /api/v1/pages: data[${i}] (${item.slug}) has parent ${JSON.stringify(item.parent)}, the filter asked for "who-we-are"`);
    }
    if (typeof item.position !== "number") {
      fail(`GET /api/v1/pages: data[${i}] (${item.slug}) has no numeric position`);
    }
    if (item.position < lastPosition) {
      fail(`GET /api/v1/pages: data[${i}] (${item.slug}) is out of order for sort=position`);
    }
    lastPosition = item.position;
    slugs.push(item.slug);
  }

  // 2b. The "Who we are" page with its children's slugs and titles only: a
  // nested fieldset, keyed by the embedding.
  const section = await client.GET("/api/v1/pages/{slug}", {
    params: {
      path: { slug: "who-we-are" },
      query: { include: ["children"], fields: ["slug", "title"], "fields[children]": ["slug", "title"] },
    },
  });
  if (section.error !== undefined || section.response.status !== 200) {
    fail(`GET /api/v1/pages/who-we-are with fields[children]: HTTP ${section.response.status}`);
  }
  const kids = section.data.children ?? [];
  if (kids.length === 0) {
    fail(`GET /api/v1/pages/who-we-are?include=children: no children`);
  }
  for (const kid of kids) {
    const shown = Object.keys(kid).sort().join(",");
    if (shown !== "slug,title") {
      fail(`GET /api/v1/pages/who-we-are with fields[children]=slug,title: a child shows ${shown}`);
    }
  }

  // 2c. The whole "Who we are" page in one request: its blocks, each with the
  // items it names, told apart by `type`; the metrics with three fields only.
  const whole = await client.GET("/api/v1/pages/{slug}", {
    params: {
      path: { slug: "who-we-are" },
      query: {
        include: ["blocks"],
        fields: ["slug", "title", "blocks"],
        "fields[blocks.metrics]": ["key", "label", "latest"],
      },
    },
  });
  if (whole.error !== undefined || whole.response.status !== 200) {
    fail(`GET /api/v1/pages/who-we-are?include=blocks: HTTP ${whole.response.status}`);
  }
  const shownTypes: string[] = [];
  let figures = 0;
  let contactEmail: unknown = undefined;
  for (const block of whole.data.blocks ?? []) {
    shownTypes.push(block.type);
    if (block.type === "metrics") {
      for (const item of block.items ?? []) {
        // The fields asked for, and the locale it is shown in (`meta`).
        const shown = Object.keys(item).filter((name) => name !== "meta").sort().join(",");
        if (shown !== "key,label,latest") {
          fail(`GET /api/v1/pages/who-we-are with fields[blocks.metrics]: a metric shows ${shown}`);
        }
        figures += 1;
      }
    } else if (block.type === "contact") {
      contactEmail = block.items?.[0]?.["email"];
    } else if (block.type === "markdown") {
      // A Markdown block has its text, and the HTML to render.
      const html: string | null | undefined = block.html;
      if (typeof html !== "string") {
        fail(`GET /api/v1/pages/who-we-are: a markdown block without html`);
      }
    }
  }
  if (shownTypes.join(",") !== "pages,metrics,decisions,funders,contact") {
    fail(`GET /api/v1/pages/who-we-are?include=blocks: blocks ${shownTypes.join(",")}`);
  }
  if (figures !== 10 || contactEmail !== "seesac@undp.org") {
    fail(`GET /api/v1/pages/who-we-are?include=blocks: ${figures} metrics, contact ${JSON.stringify(contactEmail)}`);
  }

  // 3. A metric with its latest figure.
  const metric = await client.GET("/api/v1/impact-metrics/{key}", {
    params: { path: { key: "women-in-armed-forces" } },
  });
  if (metric.error !== undefined) {
    fail(`GET /api/v1/impact-metrics/women-in-armed-forces: ${describe(metric.response.status, metric.error)}`);
  }
  if (metric.response.status !== 200) {
    fail(`GET /api/v1/impact-metrics/women-in-armed-forces: HTTP ${metric.response.status}, expected 200`);
  }
  const label = metric.data.label;
  if (typeof label !== "string" || label === "") {
    fail(`GET /api/v1/impact-metrics/women-in-armed-forces: label is ${JSON.stringify(label)}`);
  }
  const latest = metric.data.latest;
  if (latest === undefined || latest === null) {
    fail(`GET /api/v1/impact-metrics/women-in-armed-forces: no latest figure`);
  }
  if (typeof latest.value !== "number") {
    fail(`GET /api/v1/impact-metrics/women-in-armed-forces: latest.value is ${JSON.stringify(latest.value)}`);
  }
  const range = latest.value_max === undefined || latest.value_max === null ? "" : `-${latest.value_max}`;

  // 4. The changes feed: an entry is narrowed by its `type`, and its item by shape
  // (a page's stored fields, or a translation's version).
  const feed = await client.GET("/api/v1/changes", {
    params: { query: { type: ["page"], per_page: 100 } },
  });
  if (feed.error !== undefined || feed.response.status !== 200) {
    fail(`GET /api/v1/changes?type=page: HTTP ${feed.response.status}`);
  }
  const changedSlugs: string[] = [];
  for (const entry of feed.data.data) {
    if (entry.type !== "page") {
      fail(`GET /api/v1/changes?type=page: an entry of type ${JSON.stringify(entry.type)}`);
    }
    const item = entry.item;
    if (item !== null && item !== undefined && "slug" in item) {
      const slug: string | undefined = item.slug;
      if (typeof slug === "string") {
        changedSlugs.push(slug);
      }
    }
  }
  if (!changedSlugs.includes("mission")) {
    fail(`GET /api/v1/changes?type=page: no entry carries the page mission (${changedSlugs.join(", ")})`);
  }

  console.log(`page mission: "${title}"`);
  console.log(`pages under who-we-are (${items.length} of ${total}): ${slugs.join(", ")}`);
  console.log(`metric ${label}: ${latest.value}${range} (${latest.area}, ${latest.period_start ?? "?"}..${latest.period_end ?? "?"})`);
  console.log(`who-we-are in one request: ${shownTypes.join(", ")}; ${figures} impact figures`);
  console.log("contract client: OK");
}

main().then(
  () => process.exit(0),
  (err: unknown) => fail(err instanceof Error ? `${err.name}: ${err.message}${err.cause instanceof Error ? ` (${err.cause.message})` : ""}` : String(err)),
);
