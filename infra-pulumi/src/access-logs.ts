import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

export interface AccessLogBucketArgs {
  /** Days a log object is kept before S3 deletes it. */
  retentionDays: number;
  /** Staging and prod: Pulumi `protect` on the bucket, and no `forceDestroy` (the logs are evidence). */
  keepData: boolean;
}

/** Key prefix of the load balancer's logs in the bucket; the ALB appends `AWSLogs/<account>/…`. */
export const loadBalancerLogPrefix = "edge";

/**
 * The S3 bucket the load balancer writes its access logs to: private, encrypted with S3-managed keys (ALB log
 * delivery supports no other), HTTPS only, objects expiring after `retentionDays`.
 */
export class AccessLogBucket extends pulumi.ComponentResource {
  readonly bucketName: pulumi.Output<string>;
  readonly bucketArn: pulumi.Output<string>;
  /** The load balancer must be created after this: AWS checks it may write to the bucket when logging is turned on. */
  readonly policy: aws.s3.BucketPolicy;

  constructor(name: string, args: AccessLogBucketArgs, opts?: pulumi.ComponentResourceOptions) {
    super("inventory:platform:AccessLogBucket", name, {}, opts);
    const child = { parent: this };

    const bucket = new aws.s3.Bucket(
      name,
      // A dev stack's logs go with the stack; staging and prod refuse to delete a bucket that still holds some.
      { bucketPrefix: `${name}-`, forceDestroy: !args.keepData },
      { parent: this, protect: args.keepData },
    );
    this.bucketName = bucket.bucket;
    this.bucketArn = bucket.arn;

    const publicAccess = new aws.s3.BucketPublicAccessBlock(
      name,
      { bucket: bucket.id, blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true },
      child,
    );
    new aws.s3.BucketOwnershipControls(name, { bucket: bucket.id, rule: { objectOwnership: "BucketOwnerEnforced" } }, child);
    new aws.s3.BucketServerSideEncryptionConfiguration(
      name,
      { bucket: bucket.id, rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } }] },
      child,
    );
    new aws.s3.BucketLifecycleConfiguration(
      name,
      {
        bucket: bucket.id,
        rules: [
          {
            id: "expire-access-logs",
            status: "Enabled",
            filter: {},
            expiration: { days: args.retentionDays },
            abortIncompleteMultipartUpload: { daysAfterInitiation: 1 },
          },
        ],
      },
      child,
    );

    // Regions opened before August 2022 (eu-central-1 among them) deliver as the regional ELB account; newer ones
    // as the log delivery service principal. Allowing both keeps the policy right in any region.
    const elbAccount = aws.elb.getServiceAccountOutput({}, child);
    const policyDocument = pulumi.all([bucket.arn, elbAccount.arn]).apply(([arn, elbAccountArn]) =>
      JSON.stringify({
        Version: "2012-10-17",
        Statement: [
          {
            Sid: "LoadBalancerLogDelivery",
            Effect: "Allow",
            Principal: { AWS: elbAccountArn, Service: "logdelivery.elasticloadbalancing.amazonaws.com" },
            Action: "s3:PutObject",
            Resource: `${arn}/${loadBalancerLogPrefix}/AWSLogs/*`,
          },
          {
            Sid: "HttpsOnly",
            Effect: "Deny",
            Principal: "*",
            Action: "s3:*",
            Resource: [arn, `${arn}/*`],
            Condition: { Bool: { "aws:SecureTransport": "false" } },
          },
        ],
      }),
    );
    // After the public access block: with blockPublicPolicy on, the policy is checked against it.
    this.policy = new aws.s3.BucketPolicy(name, { bucket: bucket.id, policy: policyDocument }, { parent: this, dependsOn: [publicAccess] });

    this.registerOutputs({ bucketName: this.bucketName, bucketArn: this.bucketArn });
  }
}
