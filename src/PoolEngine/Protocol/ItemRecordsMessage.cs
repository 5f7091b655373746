namespace ProcessPool.Engine.Protocol
{
    /// <summary>
    /// Worker → parent: records of an item still running (it ran longer than the worker's streaming threshold): chunk
    /// id, index, then the records as in an ItemsDone entry (count, kind and blob each). Its ItemsDone entry later carries
    /// only the records that followed.
    /// </summary>
    internal static class ItemRecordsMessage
    {
        /// <summary>Writes the frame's body from the records an entry gathered (<paramref name="entry"/> from <paramref name="recordsOffset"/> on), without copying them elsewhere first.</summary>
        public static void WriteTo(ByteBuffer body, long chunkId, int index, int recordCount, ByteBuffer entry, int recordsOffset)
        {
            body.WriteInt64(chunkId);
            body.WriteInt32(index);
            body.WriteInt32(recordCount);
            body.WriteBytes(entry.RawData, recordsOffset, entry.Length - recordsOffset);
        }

        public static (long ChunkId, int Index, OutputRecord[] Records) ReadFrom(ref BodyReader body)
        {
            long chunkId = body.ReadInt64();
            int index = body.ReadInt32();
            return (chunkId, index, ItemsDoneMessage.ReadRecords(ref body));
        }
    }
}
