import * as aws from "@pulumi/aws";
import * as dockerBuild from "@pulumi/docker-build";
import * as pulumi from "@pulumi/pulumi";
import { buildContextDigest, repositoryRoot } from "./build-context.js";
import type { CpuArchitecture } from "./config.js";

/** The platform an image must be built for to run on Fargate tasks of each CPU architecture. */
export const dockerPlatform = {
  X86_64: dockerBuild.Platform.Linux_amd64,
  ARM64: dockerBuild.Platform.Linux_arm64,
} as const satisfies Record<CpuArchitecture, dockerBuild.Platform>;

/** Images the repository keeps, newest first; older ones expire (a rollback goes back at most this far). */
export const keptImages = 20;
/** Days an untagged image (an interrupted push, a manifest no tag names any more) stays. */
export const untaggedImageDays = 3;

export interface ContainerImageArgs {
  /** An image pushed elsewhere, pinned by digest; unset, the repository's Dockerfile is built and pushed here. */
  prebuilt: string | undefined;
  /** The tasks' CPU architecture: the one platform the image is built for. */
  cpuArchitecture: CpuArchitecture;
  /** Staging and prod: the repository is not deleted while it holds images. */
  keepData: boolean;
}

/**
 * The one image every process runs, referred to by digest (`<repository>@sha256:…`), so a task definition names
 * exactly one content: a later push can neither change what a running service starts nor what a rollback returns to.
 *
 * The stack's ECR repository always exists (CI that builds elsewhere pushes to it, see `repositoryUrl`): immutable
 * tags, a scan on every push, and a lifecycle policy. Without a configured image the program builds the repository's
 * Dockerfile (context: the repository root) for the tasks' platform and pushes it there, tagged with a digest of the
 * build context, so the same sources are one image and an unchanged tree pushes nothing.
 */
export class ContainerImage extends pulumi.ComponentResource {
  readonly repositoryUrl: pulumi.Output<string>;
  /** What the task definitions run: `<repository>@sha256:<digest>`. */
  readonly ref: pulumi.Output<string>;
  /** `sha256:<digest>`: changes exactly when the image does. */
  readonly digest: pulumi.Output<string>;
  /** The ECR repository the tasks pull from, for their execution roles; undefined for an image outside ECR. */
  readonly pullRepositoryArn: pulumi.Output<string> | undefined;

  constructor(name: string, args: ContainerImageArgs, opts?: pulumi.ComponentResourceOptions) {
    super("inventory:platform:ContainerImage", name, {}, opts);
    const child = { parent: this };

    const repository = new aws.ecr.Repository(
      name,
      {
        name,
        // A tag means one content for good; the tasks refer to the digest anyway.
        imageTagMutability: "IMMUTABLE",
        imageScanningConfiguration: { scanOnPush: true },
        forceDelete: !args.keepData,
      },
      child,
    );
    new aws.ecr.LifecyclePolicy(name, { repository: repository.name, policy: JSON.stringify(lifecyclePolicy()) }, child);
    this.repositoryUrl = repository.repositoryUrl;

    if (args.prebuilt !== undefined) {
      const [, digest] = args.prebuilt.split("@") as [string, string];
      this.ref = pulumi.output(args.prebuilt);
      this.digest = pulumi.output(digest);
      const arn = ecrRepositoryArn(args.prebuilt);
      this.pullRepositoryArn = arn === undefined ? undefined : pulumi.output(arn);
    } else {
      const platform = dockerPlatform[args.cpuArchitecture];
      const tag = `${platform.replace("linux/", "")}-${buildContextDigest(repositoryRoot, [platform]).slice(0, 32)}`;
      const token = aws.ecr.getAuthorizationTokenOutput({ registryId: repository.registryId }, child);
      const image = new dockerBuild.Image(
        name,
        {
          // Relative to the Pulumi project directory (infra-pulumi/), where the CLI runs the program and the provider:
          // the repository root, and its one Dockerfile.
          context: { location: ".." },
          dockerfile: { location: "../Dockerfile" },
          platforms: [platform],
          push: true,
          tags: [pulumi.interpolate`${repository.repositoryUrl}:${tag}`],
          registries: [{ address: repository.repositoryUrl, username: token.userName, password: pulumi.secret(token.password) }],
        },
        // A replaced or removed Image would delete its tag's manifest, which older task definitions (a rollback) still
        // name; the lifecycle policy removes old images instead.
        { parent: this, retainOnDelete: true },
      );
      this.digest = image.digest;
      this.ref = pulumi.interpolate`${repository.repositoryUrl}@${image.digest}`;
      this.pullRepositoryArn = repository.arn;
    }
    this.registerOutputs({ repositoryUrl: this.repositoryUrl, ref: this.ref });
  }
}

/** Untagged images go after a few days; of the tagged ones the newest `keptImages` stay. */
export function lifecyclePolicy() {
  return {
    rules: [
      {
        rulePriority: 1,
        description: `Untagged images expire after ${untaggedImageDays} days`,
        selection: { tagStatus: "untagged", countType: "sinceImagePushed", countUnit: "days", countNumber: untaggedImageDays },
        action: { type: "expire" },
      },
      {
        rulePriority: 2,
        description: `Keep the newest ${keptImages} tagged images`,
        selection: { tagStatus: "tagged", tagPatternList: ["*"], countType: "imageCountMoreThan", countNumber: keptImages },
        action: { type: "expire" },
      },
    ],
  };
}

/** The ARN of the ECR repository an image reference points into, or undefined for a registry outside ECR. */
export function ecrRepositoryArn(image: string): string | undefined {
  const match = /^(\d{12})\.dkr\.ecr(?:-fips)?\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?\/([^@:]+)/.exec(image);
  if (!match) return undefined;
  const [, account, region, china, repository] = match;
  return `arn:${china ? "aws-cn" : "aws"}:ecr:${region}:${account}:repository/${repository}`;
}
