import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import openapiTS from "openapi-typescript";

// schema.d.ts is generated from api/openapi.json; types.ts derives the pages'
// types from it. A change to the document without `npm run gen:api` fails here.
describe("generated API types", () => {
  it("src/api/schema.d.ts is current with api/openapi.json (else run `npm run gen:api`)", async () => {
    const doc = new URL("../../../api/openapi.json", import.meta.url);
    const fresh = await openapiTS(doc);
    const committed = readFileSync(new URL("./schema.d.ts", import.meta.url), "utf8");
    expect(committed === fresh, "src/api/schema.d.ts is stale: run `npm run gen:api` in frontend/ and commit it").toBe(true);
  });
});
