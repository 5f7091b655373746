namespace ProcessPool.Engine.Protocol
{
    /// <summary>Parent → worker: the map is over here; its compiled code and per-map state can go.</summary>
    internal readonly struct ReleaseMessage
    {
        public ReleaseMessage(int mapId) => MapId = mapId;

        public int MapId { get; }

        public void WriteTo(ByteBuffer body) => body.WriteInt32(MapId);

        public static ReleaseMessage ReadFrom(ref BodyReader body) => new ReleaseMessage(body.ReadInt32());
    }
}
