using System.Collections.Generic;

namespace ProcessPool.Engine.Protocol
{
    /// <summary>Sent once after the handshake: the worker's id, heartbeat interval and, per payload kind, the pool's opaque per-worker setup (modules, initializer).</summary>
    internal sealed class SetupMessage
    {
        public SetupMessage(int workerId, int heartbeatMilliseconds, IReadOnlyDictionary<string, byte[]> runnerSetup)
        {
            WorkerId = workerId;
            HeartbeatMilliseconds = heartbeatMilliseconds;
            RunnerSetup = runnerSetup;
        }

        public int WorkerId { get; }
        public int HeartbeatMilliseconds { get; }
        public IReadOnlyDictionary<string, byte[]> RunnerSetup { get; }

        public void WriteTo(ByteBuffer body)
        {
            body.WriteInt32(WorkerId);
            body.WriteInt32(HeartbeatMilliseconds);
            body.WriteInt32(RunnerSetup.Count);
            foreach (var pair in RunnerSetup)
            {
                body.WriteString(pair.Key);
                body.WriteBlob(pair.Value);
            }
        }

        public static SetupMessage ReadFrom(ref BodyReader body)
        {
            int workerId = body.ReadInt32();
            int heartbeat = body.ReadInt32();
            int count = body.ReadCount(8);
            var setup = new Dictionary<string, byte[]>();
            for (int i = 0; i < count; i++)
                setup[body.ReadString() ?? ""] = body.ReadBlob() ?? System.Array.Empty<byte>();
            return new SetupMessage(workerId, heartbeat, setup);
        }
    }
}
