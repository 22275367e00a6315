import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import * as pulumi from "@pulumi/pulumi";
import { parse } from "yaml";

/**
 * Runs Pulumi code against `pulumi.runtime.setMocks` instead of the engine and AWS, recording every resource
 * the code registers with the inputs it passed. No CLI, no credentials, no network.
 */

export const project = "inventory-platform";
export const region = "eu-central-1";
export const zones = ["eu-central-1a", "eu-central-1b", "eu-central-1c"];

export interface CreatedResource {
  readonly type: string;
  readonly name: string;
  readonly id: string;
  readonly arn: string;
  // Inputs arrive as plain deserialized JSON of whatever shape the resource takes.
  readonly inputs: Record<string, any>;
  /** The resource's `protect` option (only recorded by `runProgram`, which sees the options). */
  readonly protect?: boolean;
  /** URNs of the resources in its `dependsOn` option (only recorded by `runProgram`), e.g. `urn:pulumi:…::command:local:Command::x`. */
  readonly dependsOn?: readonly string[];
}

export type Stack = "dev" | "staging" | "prod";
/** The ELB account of eu-central-1, as `aws.elb.getServiceAccount` returns it. */
export const elbServiceAccountArn = "arn:aws:iam::054676820928:root";
/** Route 53 zone of eu-central-1's application load balancers. */
export const loadBalancerZoneId = "Z215JYRZR1TBD5";

export class MockCloud {
  readonly resources: CreatedResource[] = [];
  /** `protect` of each resource by `type::name`, recorded by a stack transformation before the mocks see it. */
  readonly protected = new Map<string, boolean>();
  /** URNs of each resource's `dependsOn` by `type::name`, recorded like `protected`. */
  readonly dependencies = new Map<string, string[]>();

  ofType(type: string): CreatedResource[] {
    return this.resources.filter((r) => r.type === type);
  }

  named(type: string, name: string): CreatedResource {
    const found = this.ofType(type).find((r) => r.name === name);
    if (!found)
      throw new Error(
        `no ${type} named ${name}; have ${this.ofType(type)
          .map((r) => r.name)
          .join(", ")}`,
      );
    return found;
  }

  /** The resource whose id or ARN another resource's input refers to. */
  referredTo(reference: string): CreatedResource {
    const found = this.resources.find((r) => r.id === reference || r.arn === reference);
    if (!found) throw new Error(`nothing has id or ARN ${reference}`);
    return found;
  }

  /** Values the mocks made up for generated secrets: none of them may appear in plain text anywhere else. */
  generatedSecrets(): string[] {
    return [
      ...this.ofType("random:index/randomPassword:RandomPassword").map((r) => generatedPassword(r.name)),
      ...this.ofType("random:index/randomBytes:RandomBytes").flatMap((r) => {
        const bytes = generatedBytes(r.name, r.inputs["length"]);
        return [bytes.toString("base64"), bytes.toString("base64url"), bytes.toString("hex")];
      }),
    ];
  }
}

const generatedPassword = (name: string) => `generated0${name.replace(/[^a-zA-Z0-9]/g, "0")}`;

/** Distinct, repeatable bytes per resource name, as many as asked for. */
export function generatedBytes(name: string, length: number): Buffer {
  const blocks: Buffer[] = [];
  for (let i = 0; blocks.length * 32 < length; i++) blocks.push(createHash("sha256").update(`${name}#${i}`).digest());
  return Buffer.concat(blocks).subarray(0, length);
}

/** The version id the mocks give a Secrets Manager secret version. */
export const secretVersionId = (name: string) => `version-${name}`;

/** Any value `pulumi.secret` wrapped (or that holds a secret), as it reaches the engine: its plain value. */
export function secretContent(input: unknown): unknown {
  const wrapped = input as { [key: string]: unknown; value?: unknown } | undefined;
  if (wrapped?.["4dabf18193072939515e22adb298388d"] !== "1b47061264138c4ac30d75fd1eb44270") throw new Error(`expected a secret, got ${JSON.stringify(input)}`);
  return wrapped.value;
}

/** A value `pulumi.secret` wrapped, as it reaches the engine (encrypted in state, masked in output): its plain value. */
export function secretValue(input: unknown): string {
  const wrapped = input as { [key: string]: unknown; value?: unknown } | undefined;
  if (wrapped?.["4dabf18193072939515e22adb298388d"] !== "1b47061264138c4ac30d75fd1eb44270" || typeof wrapped.value !== "string") {
    throw new Error(`expected a secret string, got ${JSON.stringify(input)}`);
  }
  return wrapped.value;
}

export const account = "123456789012";
/** The account's private ECR registry in the test region. */
export const registry = `${account}.dkr.ecr.${region}.amazonaws.com`;
/** The digest the mocks give an image built by a docker-build Image of this name. */
export const builtImageDigest = (name: string) => `sha256:${createHash("sha256").update(`image:${name}`).digest("hex")}`;
/** The password the mocked `aws.ecr.getAuthorizationToken` returns. */
export const registryPassword = "mock-ecr-authorization-password";

/** The outputs AWS would compute that the program reads back. */
function computedOutputs(type: string, name: string, inputs: Record<string, any>): Record<string, unknown> {
  switch (type) {
    case "random:index/randomPassword:RandomPassword":
      return { result: generatedPassword(name) };
    case "random:index/randomBytes:RandomBytes": {
      const bytes = generatedBytes(name, inputs["length"]);
      return { base64: bytes.toString("base64"), hex: bytes.toString("hex") };
    }
    case "aws:secretsmanager/secretVersion:SecretVersion":
      return { versionId: secretVersionId(name) };
    case "aws:rds/instance:Instance":
      return { address: `${name}.rds.amazonaws.test`, port: inputs["port"] ?? 5432 };
    case "aws:elasticache/replicationGroup:ReplicationGroup":
      return { primaryEndpointAddress: `master.${name}.cache.amazonaws.test` };
    case "aws:lb/loadBalancer:LoadBalancer":
      return { dnsName: `${name}.${region}.elb.amazonaws.test`, zoneId: loadBalancerZoneId, arnSuffix: `app/${name}/50dc6c495c0c9188` };
    case "aws:lb/targetGroup:TargetGroup":
      return { arnSuffix: `targetgroup/${name}/73e2d6bc24d8a067` };
    case "aws:s3/bucket:Bucket":
      return { bucket: `${inputs["bucketPrefix"] ?? ""}generated` };
    case "aws:ecr/repository:Repository":
      return { repositoryUrl: `${registry}/${inputs["name"] ?? name}`, registryId: account };
    case "docker-build:index:Image": {
      const digest = builtImageDigest(name);
      const [tag] = inputs["tags"] as string[];
      return { digest, ref: `${tag}@${digest}` };
    }
    default:
      return {};
  }
}

/** Installs the mocks with `config` as the stack configuration. Import the code under test after this. */
export async function startMockCloud(config: Record<string, string>, stack = "test"): Promise<MockCloud> {
  const cloud = new MockCloud();
  pulumi.runtime.setAllConfig(config);
  await pulumi.runtime.setMocks(
    {
      newResource({ type, name, inputs }) {
        const className = type.split(":").pop() ?? type;
        const id = `${className}-${name}`;
        const arn = `arn:aws:mock:${region}:123456789012:${className}/${name}`;
        const key = `${type}::${name}`;
        cloud.resources.push({
          type,
          name,
          id,
          arn,
          inputs,
          protect: cloud.protected.get(key),
          get dependsOn() {
            return cloud.dependencies.get(key);
          },
        });
        return { id, state: { arn, name: inputs.name ?? name, ...inputs, ...computedOutputs(type, name, inputs) } };
      },
      call({ token }) {
        switch (token) {
          case "aws:index/getAvailabilityZones:getAvailabilityZones":
            return { names: zones, zoneIds: zones.map((_, i) => `euc1-az${i + 1}`) };
          case "aws:elb/getServiceAccount:getServiceAccount":
            return { arn: elbServiceAccountArn, id: "054676820928", region };
          case "aws:index/getRegion:getRegion":
            return { name: region, region };
          case "aws:ecr/getAuthorizationToken:getAuthorizationToken":
            return { userName: "AWS", password: registryPassword, proxyEndpoint: `https://${registry}`, authorizationToken: "QVdTOm1vY2s=" };
          default:
            throw new Error(`no mock for ${token}`);
        }
      },
    },
    project,
    stack,
    false,
  );
  return cloud;
}

/** Waits until every resource registration the code started has reached the mocks. */
export async function settled(): Promise<void> {
  await pulumi.runtime.disconnect();
}

/** A stack's configuration as the CLI would pass it: `Pulumi.<stack>.yaml`, plus values set by hand. */
export function stackConfig(stack: Stack, overrides: Record<string, string> = {}): Record<string, string> {
  const file = new URL(`../../Pulumi.${stack}.yaml`, import.meta.url);
  const { config } = parse(readFileSync(file, "utf8")) as { config: Record<string, unknown> };
  const values = Object.entries(config).map(([key, value]) => [key, typeof value === "object" ? JSON.stringify(value) : String(value)]);
  return { ...Object.fromEntries(values), ...overrides };
}

/** Runs the whole program (`src/index.ts`) for a stack, as `pulumi up` would, and returns what it created. */
export async function runProgram(stack: Stack, overrides: Record<string, string> = {}): Promise<{ cloud: MockCloud; outputs: Record<string, unknown> }> {
  const cloud = await startMockCloud(stackConfig(stack, overrides), stack);
  const outputs = await pulumi.runtime.runInPulumiStack(async () => {
    pulumi.runtime.registerStackTransformation(({ type, name, opts }) => {
      cloud.protected.set(`${type}::${name}`, opts.protect === true);
      // Resolved before the resource registers: its registration waits for its dependencies, so for their URNs.
      const dependencies = pulumi.output(opts.dependsOn ?? []).apply((d) => (Array.isArray(d) ? d : [d]));
      dependencies.apply((resources) =>
        pulumi.all(resources.map((r) => r.urn)).apply((urns) => {
          cloud.dependencies.set(`${type}::${name}`, urns);
        }),
      );
      return undefined;
    });
    return { ...(await import("../index.js")) };
  });
  await settled();
  return { cloud, outputs: outputs ?? {} };
}

/** What staging and prod must be given by hand: the public name, its zone and its certificate. */
export function publicEndpoint(stack: Stack): Record<string, string> {
  const domainName = stack === "prod" ? "inventory.example.com" : `${stack}.inventory.example.com`;
  return {
    [`${project}:domainName`]: domainName,
    [`${project}:hostedZoneId`]: "Z0EXAMPLE123",
    [`${project}:certificateArn`]: `arn:aws:acm:${region}:123456789012:certificate/${stack}`,
  };
}

/** An image built and pushed elsewhere (CI), as `inventory-platform:image` names it: pinned by digest. */
export const prebuiltImage = `${registry}/inventory-ci@sha256:${"ab".repeat(32)}`;
