namespace ProcessPool.Engine.Protocol
{
    /// <summary>Worker → parent: the map's definition could not be loaded (its chunks there fail with the same error).</summary>
    internal sealed class DefineFailedMessage
    {
        public DefineFailedMessage(int mapId, ErrorInfo error)
        {
            MapId = mapId;
            Error = error;
        }

        public int MapId { get; }
        public ErrorInfo Error { get; }

        public void WriteTo(ByteBuffer body)
        {
            body.WriteInt32(MapId);
            Error.WriteTo(body);
        }

        public static DefineFailedMessage ReadFrom(ref BodyReader body) => new DefineFailedMessage(body.ReadInt32(), ErrorInfo.ReadFrom(ref body));
    }
}
