import { expect, test } from "vitest";
import { elbServiceAccountArn, loadBalancerZoneId, type MockCloud, publicEndpoint, type Stack } from "./mock-cloud.js";

const loadBalancerType = "aws:lb/loadBalancer:LoadBalancer";

/**
 * What staging and prod share, checked against a run of the whole program: HTTPS on their own name, WAF,
 * access logs, and data Pulumi refuses to delete. `run` is the stack's `runProgram` result, read once the tests run.
 */
export function exposedStackTests(stack: Exclude<Stack, "dev">, run: () => { cloud: MockCloud; outputs: Record<string, unknown> }): void {
  const endpoint = publicEndpoint(stack);
  const domainName = endpoint["inventory-platform:domainName"];
  const certificateArn = endpoint["inventory-platform:certificateArn"];

  test("serves HTTPS with the configured certificate and TLS 1.2+ policy, and redirects HTTP to it", () => {
    const { cloud } = run();
    const listeners = Object.fromEntries(cloud.ofType("aws:lb/listener:Listener").map((l) => [l.inputs["port"], l.inputs]));
    expect(Object.keys(listeners).sort()).toEqual(["443", "80"]);
    expect(listeners[443]).toMatchObject({
      protocol: "HTTPS",
      certificateArn,
      sslPolicy: "ELBSecurityPolicy-TLS13-1-2-2021-06",
      defaultActions: [{ type: "forward" }],
    });
    expect(listeners[80]).toMatchObject({ defaultActions: [{ type: "redirect", redirect: { protocol: "HTTPS", port: "443", statusCode: "HTTP_301" } }] });
  });

  test("points an alias A record for its domain at the load balancer and exports https://<domain>", () => {
    const { cloud, outputs } = run();
    const [loadBalancer] = cloud.ofType(loadBalancerType);
    const [record, ...more] = cloud.ofType("aws:route53/record:Record");
    expect(more).toEqual([]);
    expect(record?.inputs).toEqual({
      zoneId: "Z0EXAMPLE123",
      name: domainName,
      type: "A",
      aliases: [{ name: `${loadBalancer?.name}.eu-central-1.elb.amazonaws.test`, zoneId: loadBalancerZoneId, evaluateTargetHealth: true }],
    });
    expect(outputs["url"]).toBe(`https://${domainName}`);
  });

  test("filters the load balancer's traffic through a regional WAF web ACL: rate limit and AWS managed rules", () => {
    const { cloud } = run();
    const [webAcl, ...more] = cloud.ofType("aws:wafv2/webAcl:WebAcl");
    expect(more).toEqual([]);
    expect(webAcl?.inputs).toMatchObject({ scope: "REGIONAL", defaultAction: { allow: {} } });
    const rules = webAcl?.inputs["rules"] as { name: string; priority: number; statement: Record<string, any>; action?: unknown; overrideAction?: unknown }[];
    expect(new Set(rules.map((r) => r.priority)).size).toBe(rules.length);
    const rateRule = rules.find((r) => r.statement["rateBasedStatement"]);
    expect(rateRule).toMatchObject({
      action: { block: {} },
      statement: { rateBasedStatement: { limit: 2000, aggregateKeyType: "IP", evaluationWindowSec: 300 } },
    });
    expect(rateRule?.priority).toBe(Math.min(...rules.map((r) => r.priority)));
    const managed = rules.filter((r) => r.statement["managedRuleGroupStatement"]);
    expect(managed.map((r) => r.statement["managedRuleGroupStatement"]).sort((a, b) => a.name.localeCompare(b.name))).toEqual([
      { vendorName: "AWS", name: "AWSManagedRulesAmazonIpReputationList" },
      { vendorName: "AWS", name: "AWSManagedRulesCommonRuleSet" },
      { vendorName: "AWS", name: "AWSManagedRulesKnownBadInputsRuleSet" },
    ]);
    for (const rule of managed) expect(rule.overrideAction).toEqual({ none: {} });

    const [association, ...others] = cloud.ofType("aws:wafv2/webAclAssociation:WebAclAssociation");
    expect(others).toEqual([]);
    expect(association?.inputs["webAclArn"]).toBe(webAcl?.arn);
    expect(cloud.referredTo(association?.inputs["resourceArn"]).type).toBe(loadBalancerType);
  });

  test("protects the database, the cache and the access-log bucket with Pulumi protect", () => {
    const { cloud } = run();
    for (const type of ["aws:rds/instance:Instance", "aws:elasticache/replicationGroup:ReplicationGroup", "aws:s3/bucket:Bucket"]) {
      const [resource, ...more] = cloud.ofType(type);
      expect(more).toEqual([]);
      expect({ type, protect: resource?.protect }).toEqual({ type, protect: true });
    }
    expect(cloud.ofType("aws:s3/bucket:Bucket")[0]?.inputs["forceDestroy"]).toBe(false);
    expect(cloud.ofType(loadBalancerType)[0]?.inputs["enableDeletionProtection"]).toBe(true);
  });

  accessLogTests(run);
}

/** Every stack: the load balancer logs to a private, encrypted, expiring bucket the ELB log delivery may write to. */
export function accessLogTests(run: () => { cloud: MockCloud }): void {
  test("logs the load balancer's requests to a private, encrypted, expiring S3 bucket", () => {
    const { cloud } = run();
    const [bucket, ...more] = cloud.ofType("aws:s3/bucket:Bucket");
    expect(more).toEqual([]);
    const bucketName = `${bucket?.inputs["bucketPrefix"]}generated`;
    const [loadBalancer] = cloud.ofType(loadBalancerType);
    expect(loadBalancer?.inputs["accessLogs"]).toEqual({ enabled: true, bucket: bucketName, prefix: "edge" });

    const forBucket = (type: string) => {
      const found = cloud.ofType(type).filter((r) => r.inputs["bucket"] === bucket?.id);
      expect(found, type).toHaveLength(1);
      return found[0]?.inputs ?? {};
    };
    expect(forBucket("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock")).toMatchObject({
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    });
    expect(forBucket("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration")).toMatchObject({
      rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } }],
    });
    const [rule] = forBucket("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration")["rules"];
    expect(rule).toMatchObject({ status: "Enabled", expiration: { days: expect.any(Number) } });

    const policy = JSON.parse(forBucket("aws:s3/bucketPolicy:BucketPolicy")["policy"]) as { Statement: Record<string, any>[] };
    const delivery = policy.Statement.find((s) => s["Effect"] === "Allow");
    expect(delivery).toMatchObject({
      Principal: { AWS: elbServiceAccountArn, Service: "logdelivery.elasticloadbalancing.amazonaws.com" },
      Action: "s3:PutObject",
      Resource: `${bucket?.arn}/edge/AWSLogs/*`,
    });
    expect(policy.Statement.find((s) => s["Effect"] === "Deny")).toMatchObject({ Condition: { Bool: { "aws:SecureTransport": "false" } } });
  });
}
