import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

export interface WebFirewallArgs {
  /** The load balancer the web ACL filters. */
  loadBalancerArn: pulumi.Input<string>;
  /** Requests one client address may send in any 5 minutes before WAF blocks it for a while. */
  rateLimitPer5Minutes: number;
}

/**
 * AWS managed rule groups, evaluated in this order after the rate limit: generic OWASP-style protections,
 * request patterns known to exploit vulnerabilities (Log4Shell and the like), and addresses Amazon's threat
 * intelligence lists as bots or attackers.
 */
export const managedRuleGroups = ["AWSManagedRulesAmazonIpReputationList", "AWSManagedRulesKnownBadInputsRuleSet", "AWSManagedRulesCommonRuleSet"] as const;

const visibility = (metricName: string) => ({ cloudwatchMetricsEnabled: true, metricName, sampledRequestsEnabled: true });

/** A regional WAF web ACL in front of the edge's load balancer: allow by default, block what the rules match. */
export class WebFirewall extends pulumi.ComponentResource {
  readonly webAclArn: pulumi.Output<string>;

  constructor(name: string, args: WebFirewallArgs, opts?: pulumi.ComponentResourceOptions) {
    super("inventory:platform:WebFirewall", name, {}, opts);
    const child = { parent: this };

    const rules: aws.types.input.wafv2.WebAclRule[] = [
      {
        // First, so a flood is cut off before the costlier managed rules look at it.
        name: "rate-limit-per-ip",
        priority: 0,
        action: { block: {} },
        statement: { rateBasedStatement: { limit: args.rateLimitPer5Minutes, evaluationWindowSec: 300, aggregateKeyType: "IP" } },
        visibilityConfig: visibility(`${name}-rate-limit`),
      },
      ...managedRuleGroups.map((group, i) => ({
        name: group,
        priority: i + 1,
        // `none` keeps each group's own actions (block); `count` would only observe.
        overrideAction: { none: {} },
        statement: { managedRuleGroupStatement: { vendorName: "AWS", name: group } },
        visibilityConfig: visibility(`${name}-${group}`),
      })),
    ];
    const webAcl = new aws.wafv2.WebAcl(
      name,
      {
        description: "Inventory platform edge: AWS managed rules and a per-address rate limit",
        scope: "REGIONAL",
        defaultAction: { allow: {} },
        rules,
        visibilityConfig: visibility(name),
      },
      child,
    );
    new aws.wafv2.WebAclAssociation(name, { resourceArn: args.loadBalancerArn, webAclArn: webAcl.arn }, child);
    this.webAclArn = webAcl.arn;
    this.registerOutputs({ webAclArn: this.webAclArn });
  }
}
