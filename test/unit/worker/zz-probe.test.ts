import { it, expect } from "vitest";
import * as zod from "zod";
it("x", () => { console.log(Object.keys(zod).slice(0,10), typeof (zod as any).z, typeof (zod as any).string); });
