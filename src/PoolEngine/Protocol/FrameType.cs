namespace ProcessPool.Engine.Protocol
{
    /// <summary>The kinds of frame on the wire. Values below 0x10 travel worker → parent, the rest parent → worker.</summary>
    internal enum FrameType : byte
    {
        Hello = 0x01,
        Ready = 0x02,
        SetupFailed = 0x03,
        ItemsDone = 0x04,
        ChunkDone = 0x05,
        Heartbeat = 0x06,
        DefineFailed = 0x07,
        ChunkStarted = 0x08,
        FinalizerFailed = 0x09,
        /// <summary>Records of an item that is still running (chunk id, index, records); its ItemsDone entry carries only the rest.</summary>
        ItemRecords = 0x0A,
        FileNeeded = 0x0B,

        Setup = 0x10,
        Define = 0x11,
        Chunk = 0x12,
        Release = 0x13,
        Shutdown = 0x14,
        FileOffer = 0x15,
        FileData = 0x16,
    }
}
