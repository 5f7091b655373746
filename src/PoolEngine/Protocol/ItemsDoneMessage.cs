using System;

namespace ProcessPool.Engine.Protocol
{
    /// <summary>
    /// Worker → parent: a batch of item results. <c>u32 count</c>, then per item: chunk id (i64), index (i32), duration
    /// in µs (i64), record count (i32), each record as a kind byte and a blob, then an error flag byte and, when set, an
    /// <see cref="ErrorInfo"/>. The worker builds an entry while its item runs (<see cref="EntryWriter"/>: records are
    /// appended as they come, the duration and count filled in at the end) and appends finished entries to a batch;
    /// the parent reads them one by one (<see cref="ReadEntry"/>).
    /// </summary>
    internal static class ItemsDoneMessage
    {
        private const int MicrosOffset = 8 + 4;
        private const int RecordCountOffset = MicrosOffset + 8;
        private const int EntryHeaderBytes = RecordCountOffset + 4;

        /// <summary>Least bytes an entry takes, for checking a declared count against the body.</summary>
        public const int MinEntryBytes = 16;

        /// <summary>Starts an empty batch in <paramref name="batch"/>.</summary>
        public static void BeginBatch(ByteBuffer batch)
        {
            batch.Clear();
            batch.WriteInt32(0);
        }

        /// <summary>Fills in the batch's count before it is sent.</summary>
        public static void SealBatch(ByteBuffer batch, int count) => batch.PatchInt32(0, count);

        public static int ReadCount(ref BodyReader body) => body.ReadCount(MinEntryBytes);

        /// <summary>One item's entry as the parent reads it.</summary>
        public static Entry ReadEntry(ref BodyReader body)
        {
            long chunkId = body.ReadInt64();
            int index = body.ReadInt32();
            long micros = body.ReadInt64();
            var records = ReadRecords(ref body);
            ErrorInfo? error = body.ReadByte() == 0 ? null : ErrorInfo.ReadFrom(ref body);
            return new Entry(chunkId, index, micros, records, error);
        }

        /// <summary>A record count, then each record as a kind byte and a blob (an entry's records, and an ItemRecords frame's).</summary>
        public static OutputRecord[] ReadRecords(ref BodyReader body)
        {
            int recordCount = body.ReadCount(5);
            var records = recordCount == 0 ? Array.Empty<OutputRecord>() : new OutputRecord[recordCount];
            for (int i = 0; i < recordCount; i++)
            {
                var kind = (RecordKind)body.ReadByte();
                if (kind > RecordKind.Progress) throw new ProtocolException($"Unknown record kind {(int)kind}.");
                records[i] = new OutputRecord(kind, body.ReadBlob() ?? Array.Empty<byte>());
            }
            return records;
        }

        /// <summary>One item's result: where it belongs, how long it ran, what it emitted, and its error if it failed.</summary>
        public readonly struct Entry
        {
            public Entry(long chunkId, int index, long micros, OutputRecord[] records, ErrorInfo? error)
            {
                ChunkId = chunkId;
                Index = index;
                Micros = micros;
                Records = records;
                Error = error;
            }

            public long ChunkId { get; }
            public int Index { get; }
            public long Micros { get; }
            public OutputRecord[] Records { get; }
            public ErrorInfo? Error { get; }
        }

        /// <summary>
        /// Builds one entry in a buffer the worker reuses for every item: <see cref="Begin"/> writes its head with room
        /// for the duration and record count, <see cref="AddRecord"/> appends, <see cref="End"/> fills the room in and
        /// appends the error flag. A struct held by the sink: no allocation per item.
        /// </summary>
        public struct EntryWriter
        {
            private int _start;
            private int _recordCount;

            /// <summary>Records added since <see cref="Begin"/> or the last <see cref="DropRecords"/>.</summary>
            public int RecordCount => _recordCount;

            /// <summary>Where the entry's records start in the buffer.</summary>
            public int RecordsOffset => _start + EntryHeaderBytes;

            /// <summary>Forgets the records gathered so far (they were sent in an ItemRecords frame); the entry carries only what follows.</summary>
            public void DropRecords(ByteBuffer body)
            {
                body.Truncate(RecordsOffset);
                _recordCount = 0;
            }

            public void Begin(ByteBuffer body, long chunkId, int index)
            {
                _start = body.Length;
                _recordCount = 0;
                body.WriteInt64(chunkId);
                body.WriteInt32(index);
                body.Reserve(EntryHeaderBytes - MicrosOffset); // duration and record count, filled in by End
            }

            public void AddRecord(ByteBuffer body, RecordKind kind, byte[] data)
            {
                body.WriteByte((byte)kind);
                body.WriteBlob(data);
                _recordCount++;
            }

            public void End(ByteBuffer body, long micros, ErrorInfo? error)
            {
                body.PatchInt64(_start + MicrosOffset, micros);
                body.PatchInt32(_start + RecordCountOffset, _recordCount);
                if (error == null) body.WriteByte(0);
                else
                {
                    body.WriteByte(1);
                    error.WriteTo(body);
                }
            }
        }
    }
}
