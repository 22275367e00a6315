import { describe, expect, it } from "vitest";
import { ConfigError, commonConfigProperties, loadConfig, type CommonConfig } from "./config.js";

interface TestConfig extends CommonConfig {
  PORT: number;
}
const schema: Parameters<typeof loadConfig<TestConfig>>[0] = {
  type: "object",
  properties: { ...commonConfigProperties, PORT: { type: "integer", minimum: 1, maximum: 65535, default: 8080 } },
  required: ["PORT", "LOG_LEVEL", "DATA_DIR"],
};

describe("loadConfig", () => {
  it("fills defaults and coerces numbers", () => {
    expect(loadConfig<TestConfig>(schema, {})).toMatchObject({ PORT: 8080, LOG_LEVEL: "info", DATA_DIR: "./.data" });
    expect(loadConfig<TestConfig>(schema, { PORT: "9000" }).PORT).toBe(9000);
  });

  it.each([
    [{ PORT: "eighty" }, /PORT must be integer \(got "eighty"\)/],
    [{ PORT: "70000" }, /PORT must be <= 65535/],
    [{ DATABASE_URL: "mysql://x" }, /DATABASE_URL must match pattern/],
    [{ LOG_LEVEL: "loud" }, /LOG_LEVEL must be equal to one of the allowed values/],
  ])("fails fast naming the bad variable: %j", (env, message) => {
    expect(() => loadConfig<TestConfig>(schema, env)).toThrow(ConfigError);
    expect(() => loadConfig<TestConfig>(schema, env)).toThrow(message);
  });

  it("never shows a credential: a URL's password is cut out, a secret's value is not shown at all", () => {
    const url = () => loadConfig<TestConfig>(schema, { DATABASE_URL: "mysql://svc:hunter2-secret@db:3306/x" });
    expect(url).toThrow(/DATABASE_URL must match pattern .* \(got "mysql:\/\/svc:…@db:3306\/x"\)/);
    expect(url).not.toThrow(/hunter2/);
    const withSecret = { ...schema, properties: { ...schema.properties, SERVICE_SECRET: { type: "string", minLength: 32, nullable: true } } };
    const secret = () => loadConfig<TestConfig>(withSecret as typeof schema, { SERVICE_SECRET: "short-secret" });
    expect(secret).toThrow(/SERVICE_SECRET must NOT have fewer than 32 characters \(got a value, hidden\)/);
    expect(secret).not.toThrow(/short-secret/);
  });
});
