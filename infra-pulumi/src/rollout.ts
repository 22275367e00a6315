import * as aws from "@pulumi/aws";
import * as command from "@pulumi/command";
import type * as pulumi from "@pulumi/pulumi";

export interface RolloutCheckArgs {
  clusterName: pulumi.Input<string>;
  serviceName: pulumi.Input<string>;
  /** The revision the update asked for. */
  taskDefinitionArn: pulumi.Input<string>;
  /** The ECS service, created with `waitForSteadyState`: the check runs once it has settled. */
  service: pulumi.Resource;
}

/**
 * Fails the update when an ECS service settled on another revision than the one asked for. `waitForSteadyState`
 * waits until the service has one deployment and all its tasks run, and a deployment the circuit breaker rolled back
 * ends exactly so, on the previous revision (hashicorp/terraform-provider-aws#20858): without this check
 * `pulumi up` would report success while the old tasks serve. Runs for every new revision.
 */
export function checkRollout(name: string, args: RolloutCheckArgs, parent: pulumi.Resource): command.local.Command {
  return new command.local.Command(
    `${name}-rollout`,
    {
      interpreter: ["/bin/sh", "-c"],
      create: rolloutCheckScript,
      environment: {
        REGION: aws.getRegionOutput({}, { parent }).region,
        CLUSTER: args.clusterName,
        SERVICE: args.serviceName,
        TASK_DEFINITION: args.taskDefinitionArn,
      },
      triggers: [args.taskDefinitionArn],
    },
    { parent, dependsOn: [args.service] },
  );
}

/** Reads REGION, CLUSTER, SERVICE and TASK_DEFINITION; needs the AWS CLI (v2) and credentials, like the migration. */
export const rolloutCheckScript = `set -eu
state=$(aws ecs describe-services --region "$REGION" --cluster "$CLUSTER" --services "$SERVICE" \\
  --query "services[0].[taskDefinition, deployments[?status=='PRIMARY'].rolloutState | [0]]" --output text)
running=$(printf '%s\\n' "$state" | cut -f1)
rollout=$(printf '%s\\n' "$state" | cut -f2)
if [ "$running" != "$TASK_DEFINITION" ]; then
  echo "$SERVICE did not roll out $TASK_DEFINITION: it runs $running (the deployment circuit breaker rolled it back; see aws ecs describe-services --cluster $CLUSTER --services $SERVICE, events)" >&2
  exit 1
fi
if [ "$rollout" != "COMPLETED" ]; then
  echo "$SERVICE runs $TASK_DEFINITION but its deployment is $rollout, not COMPLETED" >&2
  exit 1
fi
echo "$SERVICE runs $TASK_DEFINITION"
`;
