import { grpcTargetVariable, type ProcessName } from "@inv/service-catalog";
import { GrpcChannel } from "./client.js";

/** The gRPC target of each process of the catalog another one may call ("dns:///user:50054"). */
export type PeerTargets = Partial<Record<ProcessName, string>>;

/**
 * A service's channels to the other processes of the catalog: each made on its first use, from
 * the target known then, and all closed with the service. Reading the targets only then lets a
 * cluster that starts its processes one by one (npm start, the tests) hand every process the same
 * map and fill it in as the processes come up, whoever calls whom.
 */
export class PeerChannels {
  private readonly channels = new Map<ProcessName, GrpcChannel>();
  private closed = false;

  constructor(
    /** The process these channels leave from, for errors. */
    private readonly self: string,
    private readonly targets: PeerTargets | undefined,
    /** Deadline of a call that sets none. */
    private readonly deadlineMs = 5_000,
  ) {}

  /** The channel to a process; throws when its target is unknown (a configuration error) or the service has stopped. */
  get(name: ProcessName): GrpcChannel {
    const open = this.channels.get(name);
    if (open) return open;
    if (this.closed) throw new Error(`the ${this.self} service has stopped: it opens no channel to ${name}`);
    if (name === this.self) throw new Error(`the ${this.self} service does not call itself over gRPC`);
    const target = this.targets?.[name];
    if (!target) throw new Error(`the ${this.self} service needs the ${name} process's address (${grpcTargetVariable(name)})`);
    const channel = new GrpcChannel(target, { deadlineMs: this.deadlineMs });
    this.channels.set(name, channel);
    return channel;
  }

  close() {
    this.closed = true;
    for (const channel of this.channels.values()) channel.close();
    this.channels.clear();
  }
}
