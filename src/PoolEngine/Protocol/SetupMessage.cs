using System.Collections.Generic;

namespace ProcessPool.Engine.Protocol
{
    /// <summary>
    /// Sent once after the handshake: the worker's id, heartbeat interval, per payload kind the pool's opaque
    /// per-worker setup (modules, initializer), then the working-set ceiling (0: none). The ceiling is a trailing
    /// field: a body without it reads as "no ceiling".
    /// </summary>
    internal sealed class SetupMessage
    {
        public SetupMessage(int workerId, int heartbeatMilliseconds, IReadOnlyDictionary<string, byte[]> runnerSetup, long maxWorkingSetBytes = 0)
        {
            WorkerId = workerId;
            HeartbeatMilliseconds = heartbeatMilliseconds;
            RunnerSetup = runnerSetup;
            MaxWorkingSetBytes = maxWorkingSetBytes;
        }

        public int WorkerId { get; }
        public int HeartbeatMilliseconds { get; }
        public IReadOnlyDictionary<string, byte[]> RunnerSetup { get; }

        /// <summary>A worker whose working set is over this after a chunk runs no further chunk; it waits for the parent's Shutdown. 0: no ceiling.</summary>
        public long MaxWorkingSetBytes { get; }

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
            body.WriteInt64(MaxWorkingSetBytes);
        }

        public static SetupMessage ReadFrom(ref BodyReader body)
        {
            int workerId = body.ReadInt32();
            int heartbeat = body.ReadInt32();
            int count = body.ReadCount(8);
            var setup = new Dictionary<string, byte[]>();
            for (int i = 0; i < count; i++)
                setup[body.ReadString() ?? ""] = body.ReadBlob() ?? System.Array.Empty<byte>();
            long ceiling = body.Remaining >= 8 ? body.ReadInt64() : 0;
            return new SetupMessage(workerId, heartbeat, setup, ceiling);
        }
    }
}
