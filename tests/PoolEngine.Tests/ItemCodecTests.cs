using System;
using System.Collections.Generic;
using System.IO;
using ProcessPool.Engine.Codec;
using Xunit;

namespace ProcessPool.Engine.Tests
{
    public sealed class ItemCodecTests
    {
        private static object? RoundTrip(object? value)
        {
            Assert.True(ItemCodec.TryEncode(value, out var data));
            return ItemCodec.Decode(data, _ => throw new InvalidOperationException("a fast-path value must not reach CliXml"));
        }

        public static IEnumerable<object?[]> FastPathValues() => new[]
        {
            new object?[] { null },
            new object?[] { "" },
            new object?[] { "héllo\twörld \u4e16\u754c \U0001F600" },
            new object?[] { 0 }, new object?[] { -1 }, new object?[] { int.MaxValue }, new object?[] { int.MinValue },
            new object?[] { long.MinValue }, new object?[] { 1L << 40 },
            new object?[] { 0.1 }, new object?[] { double.NaN }, new object?[] { double.NegativeInfinity }, new object?[] { -0.0 },
            new object?[] { true }, new object?[] { false },
            new object?[] { 79228162514264337593543950335m }, new object?[] { -1.000m },
            new object?[] { 'x' }, new object?[] { '\uffff' },
            new object?[] { Guid.Parse("0f8fad5b-d9cb-469f-a165-70867728950e") },
            new object?[] { new DateTime(2026, 11, 22, 6, 30, 15, DateTimeKind.Utc).AddTicks(1234) },
            new object?[] { new DateTime(2026, 1, 2, 3, 4, 5, DateTimeKind.Unspecified) },
            new object?[] { (byte)255 }, new object?[] { (short)-12345 }, new object?[] { 1.5f },
            new object?[] { TimeSpan.FromTicks(-123456789) },
        };

        [Theory]
        [MemberData(nameof(FastPathValues))]
        public void Decode_FastPathValue_ReturnsEqualValueOfSameType(object? value)
        {
            var decoded = RoundTrip(value);
            Assert.Equal(value, decoded);
            Assert.Equal(value?.GetType(), decoded?.GetType());
            if (value is DateTime t) Assert.Equal(t.Kind, ((DateTime)decoded!).Kind);
        }

        [Fact]
        public void Decode_NegativeZero_KeepsItsSign()
        {
            Assert.True(double.IsNegative((double)RoundTrip(-0.0)!));
        }

        [Fact]
        public void Encode_FileInfo_TravelsAsFullPathAndComesBackLive()
        {
            string dir = Directory.CreateTempSubdirectory("pp-codec-").FullName;
            try
            {
                string path = Path.Combine(dir, "a file.txt");
                File.WriteAllText(path, "12345");
                Assert.True(ItemCodec.TryEncode(new FileInfo(path), out var data));
                Assert.Equal(ItemTag.FileInfo, ItemCodec.PeekTag(new ArraySegment<byte>(data)));
                Assert.True(data.Length < path.Length + 8, "a FileInfo costs its path, not a serialized object");
                var file = Assert.IsType<FileInfo>(ItemCodec.Decode(data, _ => null));
                Assert.Equal(path, file.FullName);
                Assert.Equal(5, file.Length);

                var folder = Assert.IsType<DirectoryInfo>(RoundTrip(new DirectoryInfo(dir)));
                Assert.Equal(dir, folder.FullName);
                Assert.True(folder.Exists);
            }
            finally { Directory.Delete(dir, true); }
        }

        [Theory]
        [InlineData(typeof(object))]
        [InlineData(typeof(int[]))]
        [InlineData(typeof(Uri))]
        [InlineData(typeof(DayOfWeek))]
        [InlineData(typeof(uint))]
        public void TryEncode_TypeWithoutFastPath_ReturnsFalse(Type type)
        {
            object value = type == typeof(int[]) ? new[] { 1 }
                : type == typeof(Uri) ? new Uri("https://example.org")
                : type == typeof(DayOfWeek) ? DayOfWeek.Friday
                : type == typeof(uint) ? 5u
                : new object();
            Assert.False(ItemCodec.TryEncode(value, out _));
            Assert.False(ItemCodec.HasFastPath(value));
        }

        [Fact]
        public void Decode_CliXml_HandsTheTextToTheCallback()
        {
            const string xml = "<Objs Version=\"1.1.0.1\"><S>é</S></Objs>";
            var data = ItemCodec.EncodeCliXml(xml);
            Assert.Equal(ItemTag.CliXml, ItemCodec.PeekTag(new ArraySegment<byte>(data)));
            string? seen = null;
            var decoded = ItemCodec.Decode(data, text => { seen = text; return 42; });
            Assert.Equal(xml, seen);
            Assert.Equal(42, decoded);
        }

        [Fact]
        public void Decode_SegmentInsideALargerBuffer_ReadsOnlyTheSegment()
        {
            Assert.True(ItemCodec.TryEncode(123456789L, out var data));
            var buffer = new byte[data.Length + 10];
            buffer[0] = 0xEE;
            Buffer.BlockCopy(data, 0, buffer, 3, data.Length);
            Assert.Equal(123456789L, ItemCodec.Decode(new ArraySegment<byte>(buffer, 3, data.Length), _ => null));
        }

        [Fact]
        public void TryEncode_TextWithALoneSurrogate_LeavesItToCliXml()
        {
            // Built in code: theory data with a lone surrogate would not survive xunit's serialization of test cases.
            foreach (string text in new[] { "a" + (char)0xD800 + "b", ((char)0xDC00).ToString(), "pair \uD83D\uDE00 then lone " + (char)0xD83D })
            {
                Assert.True(ItemCodec.HasLoneSurrogate(text));
                Assert.False(ItemCodec.TryEncode(text, out _));
            }
        }

        [Fact]
        public void TryEncode_TextWithSurrogatePairsOnly_TakesTheFastPath()
        {
            Assert.False(ItemCodec.HasLoneSurrogate("emoji \uD83D\uDE00"));
            Assert.True(ItemCodec.TryEncode("emoji \uD83D\uDE00", out var data));
            Assert.Equal("emoji \uD83D\uDE00", ItemCodec.Decode(data, _ => null));
        }

        [Fact]
        public void Decode_CorruptInput_ThrowsInvalidData()
        {
            Assert.Throws<InvalidDataException>(() => ItemCodec.Decode(Array.Empty<byte>(), _ => null));
            Assert.Throws<InvalidDataException>(() => ItemCodec.Decode(new byte[] { 200 }, _ => null));
            Assert.Throws<InvalidDataException>(() => ItemCodec.Decode(new byte[] { (byte)ItemTag.Int32, 1, 2 }, _ => null));
        }
    }
}
