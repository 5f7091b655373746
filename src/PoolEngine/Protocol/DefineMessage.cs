using System.Text;

namespace ProcessPool.Engine.Protocol
{
    /// <summary>Parent → worker, before a map's first chunk there: map id, payload kind, the runner's opaque definition.</summary>
    internal sealed class DefineMessage
    {
        public DefineMessage(int mapId, string kind, byte[] payload)
        {
            MapId = mapId;
            Kind = kind;
            Payload = payload;
        }

        public int MapId { get; }
        public string Kind { get; }
        public byte[] Payload { get; }

        /// <summary>The body's size, known before anything is sent (a definition over the frame limit is refused in the caller).</summary>
        public static long BodyLength(string kind, byte[] payload) => 4 + 4 + (long)Encoding.UTF8.GetByteCount(kind) + 4 + payload.Length;

        public void WriteTo(ByteBuffer body)
        {
            body.WriteInt32(MapId);
            body.WriteString(Kind);
            body.WriteBlob(Payload);
        }

        public static DefineMessage ReadFrom(ref BodyReader body) =>
            new DefineMessage(body.ReadInt32(), body.ReadString() ?? "", body.ReadBlob() ?? System.Array.Empty<byte>());
    }
}
