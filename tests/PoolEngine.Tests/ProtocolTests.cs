using System;
using System.IO;
using ProcessPool.Engine.Protocol;
using Xunit;

namespace ProcessPool.Engine.Tests
{
    public sealed class ProtocolTests
    {
        private static MemoryStream Frames(params (FrameType Type, byte[] Body)[] frames)
        {
            var stream = new MemoryStream();
            var writer = new FrameWriter(stream);
            foreach (var (type, body) in frames) writer.Write(type, body, 0, body.Length);
            stream.Position = 0;
            return stream;
        }

        [Fact]
        public void Frames_RoundTrip_TypeAndBody()
        {
            var body = new ByteBuffer();
            body.WriteInt32(-7);
            body.WriteInt64(long.MaxValue);
            body.WriteString("héllo");
            body.WriteString(null);
            body.WriteBlob(new byte[] { 1, 2, 3 });
            var reader = new FrameReader(Frames((FrameType.ItemsDone, body.ToArray()), (FrameType.Shutdown, Array.Empty<byte>())));

            Assert.True(reader.TryRead(out var type, out var fields));
            Assert.Equal(FrameType.ItemsDone, type);
            Assert.Equal(-7, fields.ReadInt32());
            Assert.Equal(long.MaxValue, fields.ReadInt64());
            Assert.Equal("héllo", fields.ReadString());
            Assert.Null(fields.ReadString());
            Assert.Equal(new byte[] { 1, 2, 3 }, fields.ReadBlob());
            Assert.True(fields.AtEnd);
            Assert.True(reader.TryRead(out type, out _));
            Assert.Equal(FrameType.Shutdown, type);
            Assert.False(reader.TryRead(out _, out _));
        }

        [Fact]
        public void ChunkMessage_WrittenByTheParent_ReadsBackInTheWorker()
        {
            var stream = new MemoryStream();
            var items = new[] { new byte[] { 1, 2 }, Array.Empty<byte>(), new byte[] { 9 } };
            new ChunkMessage(3, 0x1_0000_0002L, ChunkFlags.Isolated, items.Length).WriteFrame(new FrameWriter(stream), new ByteBuffer(), items);
            stream.Position = 0;

            Assert.True(new FrameReader(stream).TryRead(out var type, out var body));
            Assert.Equal(FrameType.Chunk, type);
            Assert.Equal(ChunkMessage.BodyLength(items), body.Remaining);
            var chunk = ChunkMessage.ReadFrom(ref body);
            Assert.Equal((3, 0x1_0000_0002L, true, 3), (chunk.MapId, chunk.ChunkId, chunk.Isolated, chunk.Count));
            var read = chunk.ReadItems(ref body);
            Assert.Equal(items, Array.ConvertAll(read, segment => segment.ToArray()));
            Assert.True(body.AtEnd);
        }

        [Fact]
        public void ItemsDoneMessage_EntriesBuiltInPlace_ReadBackWithRecordsDurationAndError()
        {
            var batch = new ByteBuffer();
            var entry = new ByteBuffer();
            var writer = new ItemsDoneMessage.EntryWriter();
            ItemsDoneMessage.BeginBatch(batch);
            entry.Clear();
            writer.Begin(entry, 41, 0);
            writer.AddRecord(entry, RecordKind.Output, new byte[] { 7 });
            writer.AddRecord(entry, RecordKind.Warning, new byte[] { 8, 9 });
            writer.End(entry, 5_000_000_000L, null); // over 32 bits of microseconds
            batch.WriteBytes(entry.RawData, 0, entry.Length);
            entry.Clear();
            writer.Begin(entry, 41, 1);
            writer.End(entry, 12, new ErrorInfo("System.Exception", "boom"));
            batch.WriteBytes(entry.RawData, 0, entry.Length);
            ItemsDoneMessage.SealBatch(batch, 2);

            var body = new BodyReader(batch.ToArray(), 0, batch.Length);
            Assert.Equal(2, ItemsDoneMessage.ReadCount(ref body));
            var first = ItemsDoneMessage.ReadEntry(ref body);
            Assert.Equal((41L, 0, 5_000_000_000L, (ErrorInfo?)null), (first.ChunkId, first.Index, first.Micros, first.Error));
            Assert.Equal(new[] { RecordKind.Output, RecordKind.Warning }, Array.ConvertAll(first.Records, r => r.Kind));
            Assert.Equal(new byte[] { 8, 9 }, first.Records[1].Data);
            var second = ItemsDoneMessage.ReadEntry(ref body);
            Assert.Equal((1, 12L, 0), (second.Index, second.Micros, second.Records.Length));
            Assert.Equal("boom", second.Error!.Message);
            Assert.True(body.AtEnd);
        }

        [Fact]
        public void SmallMessages_RoundTrip()
        {
            var buffer = new ByteBuffer();
            new DefineMessage(5, "method", new byte[] { 1 }).WriteTo(buffer);
            Assert.Equal(DefineMessage.BodyLength("method", new byte[] { 1 }), buffer.Length);
            var body = new BodyReader(buffer.ToArray(), 0, buffer.Length);
            var define = DefineMessage.ReadFrom(ref body);
            Assert.Equal((5, "method", 1), (define.MapId, define.Kind, define.Payload.Length));

            buffer.Clear();
            new ChunkDoneMessage(-1, 2, long.MaxValue).WriteTo(buffer);
            new ReleaseMessage(6).WriteTo(buffer);
            new DefineFailedMessage(7, new ErrorInfo("T", "m")).WriteTo(buffer);
            body = new BodyReader(buffer.ToArray(), 0, buffer.Length);
            var done = ChunkDoneMessage.ReadFrom(ref body);
            Assert.Equal((-1L, 2L, long.MaxValue), (done.ChunkId, done.Micros, done.WorkingSet));
            Assert.Equal(6, ReleaseMessage.ReadFrom(ref body).MapId);
            var failed = DefineFailedMessage.ReadFrom(ref body);
            Assert.Equal((7, "m"), (failed.MapId, failed.Error.Message));
            Assert.True(body.AtEnd);
        }

        [Fact]
        public void Read_WrongMark_IsMalformed()
        {
            var error = Assert.Throws<ProtocolException>(() => new FrameReader(new MemoryStream("hello world\n"u8.ToArray())).TryRead(out _, out _));
            Assert.Contains("Malformed frame", error.Message);
            Assert.Contains("hello ", error.Message);
        }

        [Fact]
        public void Read_UnknownType_IsMalformed()
        {
            var bytes = new byte[] { ProtocolConstants.FrameMark, 0x7F, 0, 0, 0, 0 };
            Assert.Contains("unknown frame type 0x7F", Assert.Throws<ProtocolException>(() => new FrameReader(new MemoryStream(bytes)).TryRead(out _, out _)).Message);
        }

        [Fact]
        public void Read_LengthOverLimit_IsRefusedBeforeAllocating()
        {
            var bytes = new byte[] { ProtocolConstants.FrameMark, (byte)FrameType.Chunk, 0, 0, 0, 0x40 };
            var error = Assert.Throws<ProtocolException>(() => new FrameReader(new MemoryStream(bytes), maxFrameBytes: 1024).TryRead(out _, out _));
            Assert.Contains("Oversized frame", error.Message);
        }

        [Theory]
        [InlineData(3)]
        [InlineData(8)]
        public void Read_StreamEndsMidFrame_IsTruncated(int keep)
        {
            var whole = Frames((FrameType.ChunkDone, new byte[24])).ToArray();
            var error = Assert.Throws<ProtocolException>(() => new FrameReader(new MemoryStream(whole, 0, keep)).TryRead(out _, out _));
            Assert.Contains("Truncated frame", error.Message);
        }

        [Fact]
        public void BodyReader_ShortBody_ThrowsProtocolErrorNotIndexError()
        {
            var body = new BodyReader(new byte[] { 5, 0, 0, 0, 1 }, 0, 5);
            Assert.Throws<ProtocolException>(() => body.ReadBlob());
        }

        [Fact]
        public void BodyReader_ImplausibleCount_IsRefused()
        {
            var body = new BodyReader(new byte[] { 0xFF, 0xFF, 0xFF, 0x7F }, 0, 4);
            Assert.Throws<ProtocolException>(() => body.ReadCount(4));
        }

        [Fact]
        public void Hello_CarriesTheProcessorCount_AndAnOlderBodyWithoutItReadsAsUnknown()
        {
            var buffer = new ByteBuffer();
            new HelloMessage(ProtocolConstants.Version, 7, new[] { "method" }, "rt", 12).WriteTo(buffer);
            var body = new BodyReader(buffer.ToArray(), 0, buffer.Length);
            Assert.Equal(12, HelloMessage.ReadFrom(ref body).ProcessorCount);

            var older = new BodyReader(buffer.ToArray(), 0, buffer.Length - 4);
            var hello = HelloMessage.ReadFrom(ref older);
            Assert.Equal(0, hello.ProcessorCount);
            Assert.Equal("rt", hello.Runtime);
        }

        [Fact]
        public void Hello_WrongVersion_NamesBothVersions()
        {
            var buffer = new ByteBuffer();
            new HelloMessage(9, 1, new[] { "method" }, "x").WriteTo(buffer);
            var body = new BodyReader(buffer.ToArray(), 0, buffer.Length);
            var error = Assert.Throws<ProtocolException>(() => HelloMessage.ReadFrom(ref body));
            Assert.Contains("version 9", error.Message);
            Assert.Contains($"speaks {ProtocolConstants.Version}", error.Message);
        }
    }

    public sealed class WorkerLaunchTests
    {
        [Theory]
        [InlineData("plain", "plain")]
        [InlineData("with space", "\"with space\"")]
        [InlineData("", "\"\"")]
        [InlineData("say \"hi\"", "\"say \\\"hi\\\"\"")]
        [InlineData("C:\\dir with space\\", "\"C:\\dir with space\\\\\"")]
        public void CommandLine_QuotesEachArgumentSoItSplitsBack(string argument, string expected)
        {
            Assert.Equal(expected, new WorkerLaunch("x", new[] { argument }).CommandLine());
        }
    }

    public sealed class ChunkSizerTests
    {
        [Fact]
        public void Explicit_AlwaysWins()
        {
            var sizer = new ChunkSizer(7, TimeSpan.FromMilliseconds(50), null, 2, null);
            sizer.Observe(7, 1);
            Assert.Equal(7, sizer.NextSize);
        }

        [Fact]
        public void Adaptive_StartsAtOne_GrowsAtMostEightfoldTowardTarget()
        {
            var sizer = new ChunkSizer(null, TimeSpan.FromMilliseconds(50), null, 2, null);
            Assert.Equal(1, sizer.NextSize);
            sizer.Observe(1, 10);              // 10 µs an item: 5000 would fill 50 ms
            Assert.Equal(8, sizer.NextSize);
            sizer.Observe(8, 80);
            Assert.Equal(64, sizer.NextSize);
            for (int i = 0; i < 10; i++) sizer.Observe(sizer.NextSize, sizer.NextSize * 10L);
            Assert.Equal(ChunkSizer.MaxAdaptiveSize, sizer.NextSize);
        }

        [Fact]
        public void Adaptive_SlowItems_ShrinkToOne()
        {
            var sizer = new ChunkSizer(null, TimeSpan.FromMilliseconds(50), null, 2, null);
            sizer.Observe(1, 10);
            sizer.Observe(8, 8 * 200_000);
            Assert.Equal(1, sizer.NextSize);
        }

        [Fact]
        public void KnownCount_KeepsAboutFourChunksPerWorker()
        {
            var sizer = new ChunkSizer(null, TimeSpan.FromSeconds(10), 1000, 2, null);
            for (int i = 0; i < 5; i++) sizer.Observe(sizer.NextSize, 1);
            Assert.Equal(125, sizer.NextSize);
        }

        [Fact]
        public void InputComplete_ChunksTakeHalfAWorkersShareOfWhatIsLeft()
        {
            var sizer = new ChunkSizer(null, TimeSpan.FromSeconds(10), null, 2, null);
            for (int i = 0; i < 5; i++) sizer.Observe(sizer.NextSize, 1);
            Assert.Equal(ChunkSizer.MaxAdaptiveSize, sizer.SizeFor(2000, inputComplete: false));
            Assert.Equal(500, sizer.SizeFor(2000, inputComplete: true));
            Assert.Equal(3, sizer.SizeFor(9, inputComplete: true));
            Assert.Equal(1, sizer.SizeFor(1, inputComplete: true));
            Assert.Equal(ChunkSizer.MaxAdaptiveSize, sizer.SizeFor(1_000_000, inputComplete: true));
        }

        [Fact]
        public void InputComplete_ExplicitSizeStillWins()
        {
            var sizer = new ChunkSizer(50, TimeSpan.FromMilliseconds(50), null, 2, null);
            Assert.Equal(50, sizer.SizeFor(10, inputComplete: true));
        }

        [Fact]
        public void TaskLimit_CapsTheChunk()
        {
            var sizer = new ChunkSizer(null, TimeSpan.FromSeconds(10), null, 2, 25);
            for (int i = 0; i < 5; i++) sizer.Observe(sizer.NextSize, 1);
            Assert.Equal(25, sizer.NextSize);
        }
    }

    public sealed class ProgressEstimatorTests
    {
        [Fact]
        public void Rate_CountsCompletionsInTheWindow()
        {
            long f = System.Diagnostics.Stopwatch.Frequency;
            var progress = new ProgressEstimator(0);
            for (int i = 0; i < 100; i++) progress.Record(f * i / 100); // 100 items over 1 s
            Assert.InRange(progress.Rate(f), 95, 105);
        }

        [Fact]
        public void Rate_ForgetsCompletionsOlderThanTheWindow()
        {
            long f = System.Diagnostics.Stopwatch.Frequency;
            var progress = new ProgressEstimator(0);
            progress.Record(0, 1000);
            Assert.Equal(0, progress.Rate(f * 60));
        }

        [Theory]
        [InlineData(50, 200L, 25)]
        [InlineData(10, null, -1)]
        [InlineData(300, 200L, 100)]
        public void Percent_KnownAndUnknownTotals(long completed, long? total, int expected) =>
            Assert.Equal(expected, ProgressEstimator.Percent(completed, total));

        [Fact]
        public void Remaining_IsLeftOverRate()
        {
            Assert.Equal(TimeSpan.FromSeconds(15), ProgressEstimator.Remaining(25, 100, 5));
            Assert.Null(ProgressEstimator.Remaining(25, null, 5));
            Assert.Null(ProgressEstimator.Remaining(25, 100, 0));
        }
    }
}
