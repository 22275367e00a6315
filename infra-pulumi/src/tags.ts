import * as pulumi from "@pulumi/pulumi";
import type { Environment } from "./config.js";

export type Tags = Record<string, string>;

export function platformTags(environment: Environment): Tags {
  return { product: "inventory-management", environment };
}

/**
 * Adds `tags` to every resource that takes them, merged over the resource's own tags.
 *
 * A generated AWS resource sets a `tags` input key (possibly undefined) exactly when its type accepts tags,
 * so the key's presence says whether a resource is taggable. Only AWS resources: other providers' `tags` may
 * mean something else (a docker-build Image's are the image tags it pushes). This is a legacy SDK-side transformation on
 * purpose: `registerResourceTransform` runs in the engine, which unit tests under mocks do not have.
 */
export function tagTaggableResources(tags: Tags): pulumi.ResourceTransformation {
  return ({ type, props, opts }) => {
    if (!type.startsWith("aws:") || !("tags" in props)) return undefined;
    const own = props["tags"] as pulumi.Input<Tags> | undefined;
    return { props: { ...props, tags: pulumi.output(own ?? {}).apply((t) => ({ ...t, ...tags })) }, opts };
  };
}
