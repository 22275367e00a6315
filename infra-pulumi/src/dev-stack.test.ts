import { edge, processes } from "@inv/service-catalog";
import { beforeAll, describe, expect, test } from "vitest";
import { acceptsTags } from "./testing/aws-schema.js";
import { containersOf, ecsService, processOn } from "./testing/ecs.js";
import { accessLogTests } from "./testing/exposed-stack.js";
import { runProgram, secretValue, secretVersionId, testImage, type MockCloud } from "./testing/mock-cloud.js";

const services = processes.map((p) => ({ name: p.name, port: p.grpcPort }));
const secretVersion = "aws:secretsmanager/secretVersion:SecretVersion";
/** Variables whose values are credentials: never plain environment. */
const credentials = ["DATABASE_URL", "REDIS_URL", "SERVICE_SECRET", "ADMIN_PASSWORD", "AUTH_SIGNING_KEYS"];

describe("the dev stack", () => {
  let cloud: MockCloud;
  let outputs: Record<string, unknown>;

  beforeAll(async () => {
    ({ cloud, outputs } = await runProgram("dev"));
  });

  test("runs one Fargate service per process plus the edge, each registered in Cloud Map", () => {
    const running = cloud.ofType(ecsService);
    expect(running.map((s) => s.inputs["name"]).sort()).toEqual([edge.name, ...services.map((s) => s.name)].sort());
    const namespace = cloud.ofType("aws:servicediscovery/privateDnsNamespace:PrivateDnsNamespace");
    expect(namespace.map((n) => n.inputs["name"])).toEqual(["inventory.internal"]);
    for (const service of running) {
      expect(service.inputs).toMatchObject({ launchType: "FARGATE", networkConfiguration: { assignPublicIp: false } });
      const registry = cloud.referredTo(service.inputs["serviceRegistries"].registryArn);
      expect(registry.inputs).toMatchObject({
        name: service.inputs["name"],
        dnsConfig: { namespaceId: namespace[0]?.id, routingPolicy: "MULTIVALUE", dnsRecords: [{ type: "A" }] },
      });
    }
  });

  test("runs the services in the private subnets", () => {
    for (const service of cloud.ofType(ecsService)) {
      const subnets = (service.inputs["networkConfiguration"].subnets as string[]).map((id) => cloud.referredTo(id).name);
      expect(subnets.sort()).toEqual(["inventory-dev-private-1", "inventory-dev-private-2"]);
    }
  });

  test.each(services)("starts $name from the shared image on its gRPC port, health-checked over grpc.health.v1", ({ name, port }) => {
    const { container, environment } = processOn(cloud, name);
    expect(container.image).toBe(testImage);
    expect(container.command).toEqual(["node", "--import", "tsx", `services/${name}/src/main.ts`]);
    expect(container.portMappings).toEqual([expect.objectContaining({ containerPort: port })]);
    expect(environment).toMatchObject({ GRPC_PORT: String(port), GRPC_HOST: "0.0.0.0" });
    expect(container.healthCheck.command).toEqual(["CMD", "sh", "scripts/grpc-health.sh", `127.0.0.1:${port}`]);
  });

  test("points the edge at every service through its Cloud Map name", () => {
    const { container, environment } = processOn(cloud, "edge");
    expect(container.command).toEqual(["node", "--import", "tsx", "edge/src/main.ts"]);
    expect(environment).toMatchObject({
      HTTP_PORT: "8080",
      WAREHOUSE_GRPC_TARGET: "dns:///warehouse.inventory.internal:50051",
      INVENTORY_GRPC_TARGET: "dns:///inventory.inventory.internal:50052",
      RESERVATION_GRPC_TARGET: "dns:///reservation.inventory.internal:50053",
      USER_GRPC_TARGET: "dns:///user.inventory.internal:50054",
    });
    // Liveness: one upstream down must not make ECS replace every edge.
    expect(container.healthCheck.command.join(" ")).toContain("http://127.0.0.1:8080/healthz");
    expect(container.healthCheck.command.join(" ")).not.toContain("readyz");
  });

  test("puts the edge behind the load balancer's ip target group, health-checked on /healthz (liveness), not on its upstreams", () => {
    const { service } = processOn(cloud, "edge");
    const [registration, ...more] = service.inputs["loadBalancers"] as { targetGroupArn: string; containerName: string; containerPort: number }[];
    expect(more).toEqual([]);
    expect(registration).toMatchObject({ containerName: "edge", containerPort: 8080 });
    const targetGroup = cloud.referredTo(registration?.targetGroupArn ?? "");
    expect(targetGroup.inputs).toMatchObject({
      targetType: "ip",
      port: 8080,
      protocol: "HTTP",
      healthCheck: { path: "/healthz", matcher: "200" },
    });
    const [listener] = cloud.ofType("aws:lb/listener:Listener");
    expect(listener?.inputs).toMatchObject({ port: 80, protocol: "HTTP", defaultActions: [{ type: "forward", targetGroupArn: targetGroup.arn }] });
    const loadBalancer = cloud.referredTo(listener?.inputs["loadBalancerArn"]);
    expect(loadBalancer.inputs).toMatchObject({ loadBalancerType: "application", internal: false });
    for (const other of cloud.ofType(ecsService).filter((s) => s !== service)) expect(other.inputs["loadBalancers"] ?? []).toEqual([]);
  });

  test("scales every service between its bounds on 70 % average CPU", () => {
    const targets = cloud.ofType("aws:appautoscaling/target:Target");
    expect(targets.map((t) => t.inputs["resourceId"]).sort()).toEqual(
      ["edge", "inventory", "reservation", "user", "warehouse"].map((s) => `service/inventory-dev/${s}`),
    );
    for (const target of targets) expect(target.inputs).toMatchObject({ minCapacity: 1, maxCapacity: 2, scalableDimension: "ecs:service:DesiredCount" });
    const policies = cloud.ofType("aws:appautoscaling/policy:Policy");
    expect(policies).toHaveLength(targets.length);
    for (const policy of policies) {
      expect(policy.inputs).toMatchObject({
        policyType: "TargetTrackingScaling",
        targetTrackingScalingPolicyConfiguration: {
          targetValue: 70,
          predefinedMetricSpecification: { predefinedMetricType: "ECSServiceAverageCPUUtilization" },
        },
      });
    }
  });

  /** The name of the Secrets Manager secret an ECS `valueFrom` reads, checking it is pinned to the secret's one version. */
  const secretNamed = (valueFrom: string): string => {
    const version = cloud.ofType(secretVersion).find((v) => valueFrom === `${v.arn}:::${secretVersionId(v.name)}`);
    if (!version) throw new Error(`${valueFrom} is not a version of a secret of the stack`);
    expect(cloud.referredTo(version.inputs["secretId"]).name).toBe(version.name);
    return version.name;
  };
  const secretsOf = (name: string) => Object.fromEntries(processOn(cloud, name).container.secrets.map((s) => [s.name, secretNamed(s.valueFrom)]));

  test.each(services)("hands $name its credentials only as Secrets Manager secrets, pinned to their versions", ({ name }) => {
    expect(secretsOf(name)).toEqual({
      DATABASE_URL: "inventory-dev-database-url",
      REDIS_URL: "inventory-dev-redis-url",
      SERVICE_SECRET: "inventory-dev-service-secret",
      // The first admin's password and the token signing keys: the user service's alone.
      ...(name === "user" ? { ADMIN_PASSWORD: "inventory-dev-admin-password", AUTH_SIGNING_KEYS: "inventory-dev-auth-signing-keys" } : {}),
    });
  });

  test("hands the edge REDIS_URL and SERVICE_SECRET only as Secrets Manager secrets", () => {
    expect(secretsOf("edge")).toEqual({ REDIS_URL: "inventory-dev-redis-url", SERVICE_SECRET: "inventory-dev-service-secret" });
  });

  test.each(services)("points $name at every other process through Cloud Map (USER_GRPC_TARGET and the rest), not at itself", ({ name }) => {
    const environment = processOn(cloud, name).environment;
    const targets = Object.keys(environment).filter((v) => v.endsWith("_GRPC_TARGET"));
    expect(targets.sort()).toEqual(
      services
        .filter((s) => s.name !== name)
        .map((s) => `${s.name.toUpperCase()}_GRPC_TARGET`)
        .sort(),
    );
    for (const other of services.filter((s) => s.name !== name))
      expect(environment[`${other.name.toUpperCase()}_GRPC_TARGET`]).toBe(`dns:///${other.name}.inventory.internal:${other.port}`);
  });

  test("tells only the user service who the first admin is, with defaults from the stack", () => {
    expect(processOn(cloud, "user").environment).toMatchObject({ ADMIN_USERNAME: "admin", ADMIN_EMAIL: "admin@inventory.internal" });
    for (const name of [edge.name, ...services.map((s) => s.name).filter((n) => n !== "user")]) {
      const own = [...Object.keys(processOn(cloud, name).environment), ...processOn(cloud, name).container.secrets.map((s) => s.name)];
      expect(
        own.filter((v) => /^(ADMIN_|AUTH_)/.test(v)),
        name,
      ).toEqual([]);
    }
  });

  test("tells the edge that the load balancer is the one proxy in front of it", () => {
    expect(processOn(cloud, "edge").environment["TRUST_PROXY_HOPS"]).toBe("1");
  });

  test("puts no plain-text credential in any task definition", () => {
    const generated = cloud.generatedSecrets();
    // Four passwords (database, cache, service secret, admin) and the signing key's seed in three encodings.
    expect(generated).toHaveLength(7);
    const signingKeys = JSON.parse(secretValue(cloud.named(secretVersion, "inventory-dev-auth-signing-keys").inputs["secretString"])) as { d: string }[];
    for (const taskDefinition of cloud.ofType("aws:ecs/taskDefinition:TaskDefinition")) {
      const [container] = containersOf(taskDefinition);
      const names = container?.environment.map((e) => e.name) ?? [];
      for (const name of credentials) expect(names).not.toContain(name);
      const text = taskDefinition.inputs["containerDefinitions"] as string;
      expect(text).not.toMatch(/postgres(ql)?:\/\/|rediss?:\/\//);
      for (const secret of [...generated, ...signingKeys.map((k) => k.d)]) expect(text).not.toContain(secret);
    }
  });

  test("wraps every stored value as a Pulumi secret", () => {
    const versions = cloud.ofType(secretVersion);
    expect(versions.map((v) => v.name).sort()).toEqual(
      ["admin-password", "auth-signing-keys", "database-url", "redis-url", "service-secret"].map((n) => `inventory-dev-${n}`),
    );
    for (const version of versions) secretValue(version.inputs["secretString"]);
  });

  test.each([...services.map((s) => s.name), edge.name])("lets the execution role of %s read only its own secrets and logs", (name) => {
    const { taskDefinition, container } = processOn(cloud, name);
    const role = cloud.referredTo(taskDefinition.inputs["executionRoleArn"]);
    const [policy, ...more] = cloud.ofType("aws:iam/rolePolicy:RolePolicy").filter((p) => p.inputs["role"] === role.id);
    expect(more).toEqual([]);
    const statements = JSON.parse(policy?.inputs["policy"] as string).Statement as { Action: string[]; Resource: unknown }[];
    const secretsStatement = statements.find((s) => s.Action.includes("secretsmanager:GetSecretValue"));
    const arnOf = (secret: string) => cloud.named(secretVersion, secret).arn;
    expect(secretsStatement?.Resource).toEqual(container.secrets.map((s) => arnOf(secretNamed(s.valueFrom))));
    const readable = secretsStatement?.Resource as string[];
    for (const userOnly of ["inventory-dev-admin-password", "inventory-dev-auth-signing-keys"]) {
      expect(readable.includes(arnOf(userOnly)), `${name} reads ${userOnly}`).toBe(name === "user");
    }
    expect(readable).toContain(arnOf("inventory-dev-service-secret"));
    expect(taskDefinition.inputs["taskRoleArn"]).toBeUndefined();
  });

  test("sends every container's output to its own CloudWatch log group", () => {
    for (const taskDefinition of cloud.ofType("aws:ecs/taskDefinition:TaskDefinition")) {
      const [container] = containersOf(taskDefinition);
      expect(container?.logConfiguration).toMatchObject({
        logDriver: "awslogs",
        options: { "awslogs-group": `/ecs/inventory-dev/${container?.name}`, "awslogs-region": "eu-central-1" },
      });
    }
    const groups = cloud.ofType("aws:cloudwatch/logGroup:LogGroup");
    expect(groups).toHaveLength(5);
    for (const group of groups) expect(group.inputs["retentionInDays"]).toBe(7);
  });

  test("runs a single-AZ database and a single NAT gateway", () => {
    expect(cloud.ofType("aws:rds/instance:Instance").map((db) => db.inputs["multiAz"])).toEqual([false]);
    expect(cloud.ofType("aws:ec2/natGateway:NatGateway")).toHaveLength(1);
  });

  test("tags every taggable resource with the product and the environment", () => {
    const taggable = cloud.resources.filter((r) => acceptsTags(r.type));
    expect(taggable.length).toBeGreaterThan(100);
    for (const resource of taggable) {
      expect({ resource: `${resource.type} ${resource.name}`, tags: resource.inputs["tags"] }).toMatchObject({
        tags: { product: "inventory-management", environment: "dev" },
      });
    }
  });

  accessLogTests(() => ({ cloud }));

  test("has no WAF, no DNS record and nothing Pulumi refuses to delete", () => {
    expect(cloud.ofType("aws:wafv2/webAcl:WebAcl")).toEqual([]);
    expect(cloud.ofType("aws:route53/record:Record")).toEqual([]);
    expect(cloud.resources.filter((r) => r.protect).map((r) => r.name)).toEqual([]);
    expect(cloud.ofType("aws:s3/bucket:Bucket")[0]?.inputs["forceDestroy"]).toBe(true);
  });

  test("lays its subnets in the zones pinned in the stack, looking none up", () => {
    const zones = cloud.ofType("aws:ec2/subnet:Subnet").map((s) => s.inputs["availabilityZone"]);
    expect(new Set(zones)).toEqual(new Set(["eu-central-1a", "eu-central-1b"]));
  });

  test("exports the load balancer's URL", () => {
    expect(outputs["url"]).toBe("http://inventory-dev-edge.eu-central-1.elb.amazonaws.test");
  });

  test("exports where the first admin's password is kept", () => {
    expect(outputs["adminPasswordSecretArn"]).toBe(cloud.named(secretVersion, "inventory-dev-admin-password").arn);
  });
});
