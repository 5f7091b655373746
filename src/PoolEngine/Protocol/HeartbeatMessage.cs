namespace ProcessPool.Engine.Protocol
{
    /// <summary>Worker → parent when it has sent nothing for a while: it is alive, and its working set.</summary>
    internal readonly struct HeartbeatMessage
    {
        public HeartbeatMessage(long workingSet) => WorkingSet = workingSet;

        public long WorkingSet { get; }

        public void WriteTo(ByteBuffer body) => body.WriteInt64(WorkingSet);

        public static HeartbeatMessage ReadFrom(ref BodyReader body) => new HeartbeatMessage(body.ReadInt64());
    }
}
