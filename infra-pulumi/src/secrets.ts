import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

/** A value kept in Secrets Manager, as a task definition refers to it. */
export interface StoredSecret {
  /** The secret's ARN: what an execution role is allowed to read. */
  readonly arn: pulumi.Output<string>;
  /**
   * The ARN pinned to the version holding the value (`<arn>:::<version id>`), as ECS `valueFrom`. ECS reads a
   * secret only when a task starts, so a changed value gives a new version id, a new task definition and a
   * rolling deployment, instead of tasks that disagree until they happen to restart.
   */
  readonly valueFrom: pulumi.Output<string>;
}

/**
 * Stores `value` as a Secrets Manager secret with one version. Production secrets can be recovered for 30 days
 * after a delete; dev ones go at once, so a destroyed dev stack can be created again under the same names.
 */
export function storeSecret(name: string, description: string, value: pulumi.Input<string>, keepData: boolean, parent: pulumi.Resource): StoredSecret {
  const secret = new aws.secretsmanager.Secret(name, { description, recoveryWindowInDays: keepData ? 30 : 0 }, { parent });
  const version = new aws.secretsmanager.SecretVersion(name, { secretId: secret.id, secretString: pulumi.secret(value) }, { parent });
  // The version's ARN is the secret's, but taking it from the version makes tasks wait until a value exists.
  return { arn: version.arn, valueFrom: pulumi.interpolate`${version.arn}:::${version.versionId}` };
}
