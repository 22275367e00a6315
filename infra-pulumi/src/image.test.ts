import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { buildContextDigest, dockerignoreRules, isIgnored } from "./build-context.js";
import { ecrRepositoryArn } from "./image.js";
import { builtImageDigest, prebuiltImage, registry, settled, startMockCloud, type MockCloud } from "./testing/mock-cloud.js";

const image = "docker-build:index:Image";
const repository = "aws:ecr/repository:Repository";

describe("the build context's digest", () => {
  const rules = dockerignoreRules("# comment\nnode_modules\n**/node_modules\n.data\ngen/*/\n!gen/keep/\n*.log\n");
  let root: string;

  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), "context-"));
    const write = (path: string, content: string) => {
      mkdirSync(join(root, path, ".."), { recursive: true });
      writeFileSync(join(root, path), content);
    };
    write(".dockerignore", "node_modules\n**/node_modules\ngen/*/\n");
    write("Dockerfile", "FROM scratch\n");
    write("src/main.ts", "export {};\n");
    write("gen/package.json", "{}\n");
    write("gen/ts/generated.ts", "export const a = 1;\n");
    write("node_modules/x/index.js", "module.exports = 1;\n");
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  test.each([
    ["node_modules/pkg/index.js", false, true],
    ["services/user/node_modules/pkg/index.js", false, true],
    ["node_modules", true, true],
    [".data/user/pg", false, true],
    ["gen/ts/x.ts", false, true],
    ["gen/package.json", false, false],
    ["gen/keep/x.ts", false, false],
    ["server.log", false, true],
    ["src/main.ts", false, false],
    ["Dockerfile", false, false],
  ])("reads %s as Docker does (ignored: %s → %s)", (path, isDirectory, ignored) => {
    expect(isIgnored(path, isDirectory, rules)).toBe(ignored);
  });

  test("is the same for the same files and changes with a file, a new file or the platform, not with ignored files", () => {
    const first = buildContextDigest(root, ["linux/amd64"]);
    expect(buildContextDigest(root, ["linux/amd64"])).toBe(first);
    expect(buildContextDigest(root, ["linux/arm64"])).not.toBe(first);

    writeFileSync(join(root, "node_modules/x/index.js"), "module.exports = 2;\n");
    writeFileSync(join(root, "gen/ts/generated.ts"), "export const a = 2;\n");
    expect(buildContextDigest(root, ["linux/amd64"])).toBe(first);

    writeFileSync(join(root, "src/main.ts"), "export const changed = true;\n");
    const changed = buildContextDigest(root, ["linux/amd64"]);
    expect(changed).not.toBe(first);
    writeFileSync(join(root, "src/other.ts"), "export {};\n");
    expect(buildContextDigest(root, ["linux/amd64"])).not.toBe(changed);
  });
});

describe("ecrRepositoryArn", () => {
  test.each([
    [`${registry}/inventory-ci@sha256:${"ab".repeat(32)}`, "arn:aws:ecr:eu-central-1:123456789012:repository/inventory-ci"],
    ["123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn/team/app@sha256:00", "arn:aws-cn:ecr:cn-north-1:123456789012:repository/team/app"],
    ["ghcr.io/example/app@sha256:00", undefined],
  ])("%s is in %s", (reference, arn) => {
    expect(ecrRepositoryArn(reference)).toBe(arn);
  });
});

describe("ContainerImage", () => {
  let cloud: MockCloud;
  const refs: Record<string, string> = {};

  beforeAll(async () => {
    cloud = await startMockCloud({});
    const { ContainerImage } = await import("./image.js");
    const record = (name: string, created: InstanceType<typeof ContainerImage>) => {
      created.ref.apply((ref) => {
        refs[name] = ref;
      });
      (created.pullRepositoryArn ?? created.ref.apply(() => "none")).apply((arn) => {
        refs[`${name}:pull`] = arn;
      });
    };
    record("arm", new ContainerImage("arm", { prebuilt: undefined, cpuArchitecture: "ARM64", keepData: true }));
    record("ci", new ContainerImage("ci", { prebuilt: prebuiltImage, cpuArchitecture: "X86_64", keepData: false }));
    record(
      "elsewhere",
      new ContainerImage("elsewhere", { prebuilt: `ghcr.io/example/app@sha256:${"cd".repeat(32)}`, cpuArchitecture: "X86_64", keepData: false }),
    );
    await settled();
  });

  test("builds for linux/arm64 when the tasks run on ARM64, and tags the build with the platform", () => {
    const built = cloud.named(image, "arm");
    expect(built.inputs["platforms"]).toEqual(["linux/arm64"]);
    expect(built.inputs["tags"]).toEqual([expect.stringMatching(new RegExp(`^${registry}/arm:arm64-[0-9a-f]{32}$`))]);
    expect(refs["arm"]).toBe(`${registry}/arm@${builtImageDigest("arm")}`);
    expect(refs["arm:pull"]).toBe(cloud.named(repository, "arm").arn);
  });

  test("keeps a staging or prod repository while it holds images", () => {
    expect(cloud.named(repository, "arm").inputs["forceDelete"]).toBe(false);
  });

  test("runs a configured image as given, builds nothing, and pulls it from its own ECR repository", () => {
    expect(cloud.ofType(image).map((i) => i.name)).toEqual(["arm"]);
    expect(refs["ci"]).toBe(prebuiltImage);
    expect(refs["ci:pull"]).toBe("arn:aws:ecr:eu-central-1:123456789012:repository/inventory-ci");
    // The stack's repository still exists: CI pushes there.
    expect(cloud.named(repository, "ci").inputs).toMatchObject({ imageTagMutability: "IMMUTABLE" });
  });

  test("grants no ECR rights for an image outside ECR", () => {
    expect(refs["elsewhere:pull"]).toBe("none");
  });
});
