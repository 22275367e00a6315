import { databaseUrlVariable, edge, edgeCommand, migrateCommand, processes, serviceCommand, variablesReadBy } from "@inv/service-catalog";
import { beforeAll, describe, expect, test } from "vitest";
import { acceptsTags } from "./testing/aws-schema.js";
import { containersOf, ecsService, processOn } from "./testing/ecs.js";
import { accessLogTests } from "./testing/exposed-stack.js";
import { builtImageDigest, registry, registryPassword, runProgram, secretContent, secretValue, secretVersionId, type MockCloud } from "./testing/mock-cloud.js";

const services = processes.map((p) => ({ name: p.name, port: p.grpcPort, process: p }));
const secretVersion = "aws:secretsmanager/secretVersion:SecretVersion";
/** Variables whose values are credentials: never plain environment. */
const credentials = [
  "DATABASE_URL",
  "DATABASE_ADMIN_URL",
  ...processes.map((p) => databaseUrlVariable(p.name)),
  "REDIS_URL",
  "SERVICE_SECRET",
  "ADMIN_PASSWORD",
  "AUTH_SIGNING_KEYS",
];
const dataOwners = processes.filter((p) => p.databaseSchema !== null).map((p) => p.name);
const taskDefinitionType = "aws:ecs/taskDefinition:TaskDefinition";
const migrationRun = "command:local:Command";

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

  test("fails the update on a failed rollout: circuit breaker with rollback, wait for steady state, then check the revision", () => {
    const checks = cloud.ofType(migrationRun).filter((c) => c.name.endsWith("-rollout"));
    expect(checks).toHaveLength(5);
    for (const service of cloud.ofType(ecsService)) {
      expect(service.inputs).toMatchObject({ waitForSteadyState: true, deploymentCircuitBreaker: { enable: true, rollback: true } });
      const check = checks.find((c) => c.inputs["environment"]["SERVICE"] === service.inputs["name"]);
      expect(check?.inputs["environment"]).toEqual({
        REGION: "eu-central-1",
        CLUSTER: "inventory-dev",
        SERVICE: service.inputs["name"],
        TASK_DEFINITION: service.inputs["taskDefinition"],
      });
      expect(check?.inputs["triggers"]).toEqual([service.inputs["taskDefinition"]]);
      expect(check?.dependsOn).toEqual([expect.stringMatching(new RegExp(`aws:ecs/service:Service::${service.name}$`))]);
    }
  });

  test("lets Cloud Map answer with healthy tasks only, as ECS reports their health checks", () => {
    const registries = cloud.ofType("aws:servicediscovery/service:Service");
    expect(registries).toHaveLength(5);
    for (const registry of registries) expect(registry.inputs["healthCheckCustomConfig"]).toEqual({ failureThreshold: 1 });
  });

  test("reaches ECR, CloudWatch Logs and Secrets Manager through interface endpoints in the private subnets, with private DNS", () => {
    const endpoints = cloud.ofType("aws:ec2/vpcEndpoint:VpcEndpoint").filter((e) => e.inputs["vpcEndpointType"] === "Interface");
    expect(endpoints.map((e) => e.inputs["serviceName"]).sort()).toEqual(
      ["ecr.api", "ecr.dkr", "logs", "secretsmanager"].map((s) => `com.amazonaws.eu-central-1.${s}`).sort(),
    );
    const [vpc] = cloud.ofType("aws:ec2/vpc:Vpc");
    for (const endpoint of endpoints) {
      expect(endpoint.inputs).toMatchObject({ vpcId: vpc?.id, privateDnsEnabled: true });
      expect((endpoint.inputs["subnetIds"] as string[]).map((id) => cloud.referredTo(id).name)).toEqual(["inventory-dev-private-1", "inventory-dev-private-2"]);
      expect((endpoint.inputs["securityGroupIds"] as string[]).map((id) => cloud.referredTo(id).name)).toEqual(["inventory-dev-endpoints"]);
    }
  });

  test("reaches S3 (ECR's image layers) through a gateway endpoint on every private route table", () => {
    const [s3, ...more] = cloud.ofType("aws:ec2/vpcEndpoint:VpcEndpoint").filter((e) => e.inputs["vpcEndpointType"] === "Gateway");
    expect(more).toEqual([]);
    expect(s3?.inputs["serviceName"]).toBe("com.amazonaws.eu-central-1.s3");
    expect((s3?.inputs["routeTableIds"] as string[]).map((id) => cloud.referredTo(id).name)).toEqual(["inventory-dev-private-1", "inventory-dev-private-2"]);
  });

  test("runs the services in the private subnets", () => {
    for (const service of cloud.ofType(ecsService)) {
      const subnets = (service.inputs["networkConfiguration"].subnets as string[]).map((id) => cloud.referredTo(id).name);
      expect(subnets.sort()).toEqual(["inventory-dev-private-1", "inventory-dev-private-2"]);
    }
  });

  test.each(services)("starts $name from the shared image on its gRPC port, health-checked over grpc.health.v1", ({ name, port, process }) => {
    const { container, environment } = processOn(cloud, name);
    expect(container.image).toBe(`${registry}/inventory-dev@${builtImageDigest("inventory-dev")}`);
    expect(container.command).toEqual(serviceCommand(process));
    expect(container.portMappings).toEqual([expect.objectContaining({ containerPort: port })]);
    expect(environment).toMatchObject({ GRPC_PORT: String(port), GRPC_HOST: "0.0.0.0" });
    expect(container.healthCheck.command).toEqual(["CMD", "sh", "scripts/grpc-health.sh", `127.0.0.1:${port}`]);
  });

  test("builds the repository's Dockerfile for the tasks' platform and pushes it to the stack's repository, tagged by content", () => {
    const [image, ...more] = cloud.ofType("docker-build:index:Image");
    expect(more).toEqual([]);
    const [repository] = cloud.ofType("aws:ecr/repository:Repository");
    expect(image?.inputs).toMatchObject({ push: true, context: { location: ".." }, dockerfile: { location: "../Dockerfile" } });
    expect(image?.inputs["tags"]).toEqual([expect.stringMatching(new RegExp(`^${registry}/inventory-dev:amd64-[0-9a-f]{32}$`))]);
    // Logged in with the registry's token, which stays a secret (encrypted in the state, masked in output).
    expect(secretContent(image?.inputs["registries"])).toEqual([
      { address: `${registry}/${repository?.inputs["name"]}`, username: "AWS", password: registryPassword },
    ]);
    const platforms = image?.inputs["platforms"] as string[];
    const architectures = cloud.ofType("aws:ecs/taskDefinition:TaskDefinition").map((t) => t.inputs["runtimePlatform"]);
    expect(architectures).toHaveLength(6); // five processes and the migration
    for (const platform of architectures) expect(platform).toEqual({ operatingSystemFamily: "LINUX", cpuArchitecture: "X86_64" });
    expect(platforms).toEqual(["linux/amd64"]);
  });

  test("runs every task from the built image by digest, never by tag", () => {
    const taskDefinitions = cloud.ofType("aws:ecs/taskDefinition:TaskDefinition");
    expect(taskDefinitions.length).toBeGreaterThanOrEqual(5);
    for (const taskDefinition of taskDefinitions) {
      for (const container of containersOf(taskDefinition)) {
        expect(container.image).toMatch(/^[^@:]+(:\d+)?\/[^@:]+@sha256:[0-9a-f]{64}$/);
        expect(container.image).toBe(outputs["imageRef"]);
      }
    }
    expect(outputs["imageRef"]).toBe(`${outputs["repositoryUrl"]}@${builtImageDigest("inventory-dev")}`);
  });

  test("keeps images in an ECR repository with immutable tags, a scan on push and a lifecycle policy", () => {
    const [repository, ...more] = cloud.ofType("aws:ecr/repository:Repository");
    expect(more).toEqual([]);
    expect(repository?.inputs).toMatchObject({
      name: "inventory-dev",
      imageTagMutability: "IMMUTABLE",
      imageScanningConfiguration: { scanOnPush: true },
      forceDelete: true,
    });
    const [lifecycle] = cloud.ofType("aws:ecr/lifecyclePolicy:LifecyclePolicy");
    expect(lifecycle?.inputs["repository"]).toBe("inventory-dev");
    const { rules } = JSON.parse(lifecycle?.inputs["policy"]) as { rules: { selection: Record<string, unknown> }[] };
    expect(rules.map((r) => r.selection)).toEqual([
      { tagStatus: "untagged", countType: "sinceImagePushed", countUnit: "days", countNumber: 3 },
      { tagStatus: "tagged", tagPatternList: ["*"], countType: "imageCountMoreThan", countNumber: 20 },
    ]);
  });

  test("points the edge at every service through its Cloud Map name", () => {
    const { container, environment } = processOn(cloud, "edge");
    expect(container.command).toEqual(edgeCommand());
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

  test("scales every service between its bounds on 70 % average CPU, and the edge also on requests per task", () => {
    const targets = cloud.ofType("aws:appautoscaling/target:Target");
    expect(targets.map((t) => t.inputs["resourceId"]).sort()).toEqual(
      ["edge", "inventory", "reservation", "user", "warehouse"].map((s) => `service/inventory-dev/${s}`),
    );
    for (const target of targets) expect(target.inputs).toMatchObject({ minCapacity: 1, maxCapacity: 2, scalableDimension: "ecs:service:DesiredCount" });
    const policies = cloud.ofType("aws:appautoscaling/policy:Policy");
    const metricsOf = (service: string) =>
      policies
        .filter((p) => p.inputs["resourceId"] === `service/inventory-dev/${service}`)
        .map((p) => ({ type: p.inputs["policyType"], ...p.inputs["targetTrackingScalingPolicyConfiguration"] }));
    const cpu = {
      type: "TargetTrackingScaling",
      targetValue: 70,
      predefinedMetricSpecification: { predefinedMetricType: "ECSServiceAverageCPUUtilization" },
      scaleOutCooldown: 60,
      scaleInCooldown: 180,
    };
    for (const service of services) expect(metricsOf(service.name)).toEqual([cpu]);
    expect(metricsOf("edge")).toEqual([
      cpu,
      {
        ...cpu,
        // 6,000 a minute per 256 CPU units of the edge's size.
        targetValue: 6000,
        predefinedMetricSpecification: {
          predefinedMetricType: "ALBRequestCountPerTarget",
          resourceLabel: "app/inventory-dev-edge/50dc6c495c0c9188/targetgroup/inventory-dev-edge/73e2d6bc24d8a067",
        },
      },
    ]);
  });

  test("sizes every task at the stack's defaults, the migration included", () => {
    for (const taskDefinition of cloud.ofType(taskDefinitionType)) expect(taskDefinition.inputs).toMatchObject({ cpu: "256", memory: "512" });
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
      // Its own role's URL, never the master's.
      ...(dataOwners.includes(name) ? { DATABASE_URL: `inventory-dev-${name}-database-url` } : {}),
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
    // Passwords (database master, one per data-owning service, cache, service secret, admin) and the signing key's seed
    // in three encodings.
    expect(generated).toHaveLength(4 + dataOwners.length + 3);
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
      ["admin-password", "auth-signing-keys", "database-admin-url", ...dataOwners.map((n) => `${n}-database-url`), "redis-url", "service-secret"]
        .map((n) => `inventory-dev-${n}`)
        .sort(),
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

    // Pulling: a login token (which no repository scopes), then layers of the stack's repository alone.
    const repositoryArn = cloud.ofType("aws:ecr/repository:Repository")[0]?.arn;
    const ecr = statements.filter((s) => s.Action.some((a) => a.startsWith("ecr:")));
    expect(ecr).toEqual([
      { Effect: "Allow", Action: ["ecr:GetAuthorizationToken"], Resource: "*" },
      { Effect: "Allow", Action: ["ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage"], Resource: repositoryArn },
    ]);
    for (const statement of statements) {
      if (statement.Resource === "*") expect(statement.Action).toEqual(["ecr:GetAuthorizationToken"]);
    }
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
    expect(groups).toHaveLength(6);
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

  describe("the migration", () => {
    const migrate = () => {
      const [taskDefinition, ...more] = cloud.ofType(taskDefinitionType).filter((t) => t.inputs["family"] === "inventory-dev-migrate");
      expect(more).toEqual([]);
      const [container] = containersOf(taskDefinition!);
      const secrets = Object.fromEntries(container!.secrets.map((s) => [s.name, s.valueFrom]));
      const environment = Object.fromEntries(container!.environment.map((e) => [e.name, e.value]));
      return { taskDefinition: taskDefinition!, container: container!, secrets, environment };
    };

    test("runs the catalog's migrate command from the same image, with no port and no health check", () => {
      const { container } = migrate();
      expect(container.command).toEqual(migrateCommand());
      expect(container.image).toBe(outputs["imageRef"]);
      expect(container.portMappings).toEqual([]);
      expect(container.healthCheck).toBeUndefined();
    });

    test("gets exactly what the catalog says apps/migrate reads, credentials only as secrets, plus the RDS CA", () => {
      const { secrets, environment } = migrate();
      expect([...Object.keys(secrets), ...Object.keys(environment).filter((v) => v !== "NODE_EXTRA_CA_CERTS")].sort()).toEqual(
        variablesReadBy("migrate")
          .map((v) => v.name)
          .sort(),
      );
      expect(Object.keys(environment).sort()).toEqual(["LOG_LEVEL", "NODE_EXTRA_CA_CERTS"]);
      expect(environment["NODE_EXTRA_CA_CERTS"]).toBe("/app/certs/rds-global-bundle.pem");
    });

    test("gets the master user's URL as DATABASE_ADMIN_URL and each data owner's own URL, the one that service runs with", () => {
      const { secrets } = migrate();
      expect(secretNamed(secrets["DATABASE_ADMIN_URL"] ?? "")).toBe("inventory-dev-database-admin-url");
      for (const name of dataOwners) {
        const variable = databaseUrlVariable(name as (typeof processes)[number]["name"]);
        expect(secretNamed(secrets[variable] ?? "")).toBe(`inventory-dev-${name}-database-url`);
        expect(processOn(cloud, name).container.secrets.find((s) => s.name === "DATABASE_URL")?.valueFrom).toBe(secrets[variable]);
      }
    });

    test("hands the master user's URL to the migration task alone, and lets only its execution role read it", () => {
      const adminSecret = cloud.named(secretVersion, "inventory-dev-database-admin-url");
      const readers = cloud
        .ofType(taskDefinitionType)
        .filter((t) => (t.inputs["containerDefinitions"] as string).includes(adminSecret.arn))
        .map((t) => t.inputs["family"]);
      expect(readers).toEqual(["inventory-dev-migrate"]);
      const roles = cloud
        .ofType("aws:iam/rolePolicy:RolePolicy")
        .filter((p) => (p.inputs["policy"] as string).includes(adminSecret.arn))
        .map((p) => cloud.referredTo(p.inputs["role"]).id);
      expect(roles).toEqual([cloud.referredTo(migrate().taskDefinition.inputs["executionRoleArn"]).id]);
    });

    test("starts the task with the AWS CLI on Fargate in the private subnets behind its own group, and waits for it", () => {
      const run = cloud.named(migrationRun, "inventory-dev-migrate-run");
      expect(run?.inputs["interpreter"]).toEqual(["/bin/sh", "-c"]);
      expect(run?.inputs["create"]).toContain("aws ecs run-task");
      expect(run?.inputs["create"]).toContain("--launch-type FARGATE");
      expect(run?.inputs["create"]).toContain("aws ecs wait tasks-stopped");
      const environment = run?.inputs["environment"] as Record<string, string>;
      expect(environment).toMatchObject({ REGION: "eu-central-1", TASK_DEFINITION: migrate().taskDefinition.arn, LOG_GROUP: "/ecs/inventory-dev/migrate" });
      expect(cloud.referredTo(environment["CLUSTER"] ?? "").type).toBe("aws:ecs/cluster:Cluster");
      expect((environment["SUBNETS"] ?? "").split(",").map((id) => cloud.referredTo(id).name)).toEqual(["inventory-dev-private-1", "inventory-dev-private-2"]);
      expect(cloud.referredTo(environment["SECURITY_GROUP"] ?? "").name).toBe("inventory-dev-migrate");
    });

    test("runs again for every new image and every new task definition revision", () => {
      const run = cloud.named(migrationRun, "inventory-dev-migrate-run");
      expect(run?.inputs["triggers"]).toEqual([builtImageDigest("inventory-dev"), migrate().taskDefinition.arn]);
    });

    test("runs before any ECS service is created or updated, edge included", () => {
      const run = cloud.named(migrationRun, "inventory-dev-migrate-run");
      const services = cloud.ofType(ecsService);
      expect(services).toHaveLength(5);
      for (const service of services) {
        expect({ service: service.inputs["name"], after: service.dependsOn?.filter((urn) => urn.endsWith(`${migrationRun}::${run?.name}`)) }).toEqual({
          service: service.inputs["name"],
          after: [expect.any(String)],
        });
      }
    });

    test("waits for the database, its security rules, the network and the VPC endpoints before it runs", () => {
      const run = cloud.named(migrationRun, "inventory-dev-migrate-run");
      // urn:pulumi:<stack>::<project>::<parent types joined by $>$<type>::<name>
      expect(run?.dependsOn?.map((urn) => urn.split("::").at(-2)?.split("$").at(-1)).sort()).toEqual(
        ["inventory:platform:DataStores", "inventory:platform:Network", "inventory:platform:SecurityGroups", "inventory:platform:VpcEndpoints"].sort(),
      );
    });
  });

  test.each(processes)("gives $name the RDS CA exactly when it keeps data", ({ name, databaseSchema }) => {
    expect(processOn(cloud, name).environment["NODE_EXTRA_CA_CERTS"]).toBe(databaseSchema === null ? undefined : "/app/certs/rds-global-bundle.pem");
  });

  test("gives the edge no database: no URL, no CA, no secret of the database", () => {
    const { container, environment } = processOn(cloud, "edge");
    expect(environment["NODE_EXTRA_CA_CERTS"]).toBeUndefined();
    expect(container.secrets.map((s) => s.name).filter((n) => n.includes("DATABASE"))).toEqual([]);
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
