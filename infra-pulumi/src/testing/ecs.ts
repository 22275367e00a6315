import type { CreatedResource, MockCloud } from "./mock-cloud.js";

export const ecsService = "aws:ecs/service:Service";

/** The parts of an ECS container definition the tests look at. */
export interface ContainerDefinition {
  name: string;
  image: string;
  command: string[];
  portMappings: { containerPort: number }[];
  environment: { name: string; value: string }[];
  secrets: { name: string; valueFrom: string }[];
  healthCheck: { command: string[] };
  logConfiguration: { logDriver: string; options: Record<string, string> };
}

export function containersOf(taskDefinition: CreatedResource): ContainerDefinition[] {
  return JSON.parse(taskDefinition.inputs["containerDefinitions"] as string) as ContainerDefinition[];
}

/** The ECS service that runs a process, with its task definition's single container. */
export function processOn(cloud: MockCloud, name: string) {
  const service = cloud.ofType(ecsService).find((s) => s.inputs["name"] === name);
  if (!service) throw new Error(`no ECS service ${name}`);
  const taskDefinition = cloud.referredTo(service.inputs["taskDefinition"]);
  const [container, ...others] = containersOf(taskDefinition);
  if (!container || others.length > 0) throw new Error(`${name} should run exactly one container`);
  const environment = Object.fromEntries(container.environment.map((e) => [e.name, e.value]));
  return { service, taskDefinition, container, environment };
}
