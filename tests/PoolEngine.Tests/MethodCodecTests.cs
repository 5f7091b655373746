using System;
using System.Linq;
using System.Text;
using ProcessPool.Engine.Methods;
using Xunit;
using static ProcessPool.Engine.Tests.TestHosts;

namespace ProcessPool.Engine.Tests
{
    /// <summary>
    /// The method codec: primitives in their binary form, JSON for everything else and for whoever sends JSON, and
    /// <see cref="MethodBatch"/> (many items in one pool item), against real workers.
    /// </summary>
    public sealed class MethodCodecTests : IDisposable
    {
        private readonly WorkerPool _pool = new WorkerPool(Options(1));

        public void Dispose()
        {
            _pool.Dispose();
            AssertNoLeaks(_pool);
        }

        [Fact]
        public void Encode_Primitives_RoundTripInBinaryForm()
        {
            Assert.Equal(long.MinValue, MethodJson.Decode<long>(MethodJson.Encode(long.MinValue)));
            Assert.Equal(-7, MethodJson.Decode<int>(MethodJson.Encode(-7)));
            Assert.Equal(0.1, MethodJson.Decode<double>(MethodJson.Encode(0.1)));
            Assert.True(MethodJson.Decode<bool>(MethodJson.Encode(true)));
            Assert.Equal("ä \"q\" \n", MethodJson.Decode<string>(MethodJson.Encode("ä \"q\" \n")));
            Assert.Equal(9, MethodJson.Encode(42L).Length); // a tag and 8 bytes, not JSON text
            Assert.Equal(42L, MethodJson.Decode<long>(MethodJson.Encode(42))); // another numeric type converts as JSON would
            Assert.Equal(new[] { 1, 2 }, MethodJson.Decode<int[]>(MethodJson.Encode(new[] { 1, 2 }))); // no binary form: JSON
        }

        [Fact]
        public void Map_BinaryItem_BinaryResult()
        {
            var result = Run(new[] { MethodJson.Encode(21) }, "Double").Single();
            Assert.Equal(42, MethodJson.Decode<int>(result.Outputs.Single()));
            Assert.NotEqual((byte)'4', result.Outputs.Single()[0]);
        }

        [Fact]
        public void Map_JsonItem_JsonResult()
        {
            // Callers that speak JSON (the cmdlets, hand-written items) get JSON back.
            var result = Run(new[] { Encoding.UTF8.GetBytes("21") }, "Double").Single();
            Assert.Equal("42", Encoding.UTF8.GetString(result.Outputs.Single()));
        }

        [Fact]
        public void Map_BinaryItemOfAnotherType_ConvertsAsJsonWould()
        {
            // A long for an int parameter, a string for a string parameter, an int for a Point (fails as JSON would).
            var results = Run(new[] { MethodJson.Encode(21L) }, "Double").ToList();
            Assert.Equal(42, MethodJson.Decode<int>(results.Single().Outputs.Single()));
            Assert.Equal("hi", MethodJson.Decode<string>(Run(new[] { MethodJson.Encode("hi") }, "Echo").Single().Outputs.Single()));
            var mismatch = Run(new[] { MethodJson.Encode(3) }, "Mirror").Single();
            Assert.False(mismatch.Succeeded);
            Assert.Contains("does not convert to parameter 'p'", mismatch.Error!.Message);
        }

        [Fact]
        public void MapArray_PackedBatches_ResultsInOrder()
        {
            var items = Enumerable.Range(0, 10_000).ToArray();
            var results = MethodBatch.MapArray<int, int>(_pool, Method("Double"), items, batchSize: 999);
            Assert.Equal(items.Select(x => 2 * x), results);
        }

        [Fact]
        public void Map_StringBatches_EachElementRuns()
        {
            var items = new[] { "a", "", "ä\"", "long text" };
            Assert.Equal(items, MethodBatch.Map<string, string>(_pool, Method("Echo"), items, batchSize: 3).ToArray());
        }

        [Fact]
        public void Map_BatchOfAsyncMethod_TakesTheGeneralPath()
        {
            Assert.Equal(new[] { 2, 4, 6 }, MethodBatch.MapArray<int, int>(_pool, Method("DoubleAsync"), new[] { 1, 2, 3 }));
        }

        [Fact]
        public void MapArray_ElementThrows_BatchFailsNamingTheElement()
        {
            var items = new[] { 1, 2, -3, 4 };
            var error = Assert.Throws<RemoteItemException>(() => MethodBatch.MapArray<int, int>(_pool, Method("ThrowIfNegative"), items, batchSize: 4));
            Assert.Equal(typeof(ArgumentOutOfRangeException).FullName, error.RemoteType);
            Assert.StartsWith("Batch element 2: negative: -3", error.RemoteMessage);
        }

        [Fact]
        public void Decode_TruncatedBatch_Throws()
        {
            var batch = MethodBatch.Encode(new long[] { 1, 2, 3 });
            Assert.ThrowsAny<System.Text.Json.JsonException>(() => MethodBatch.Decode<long>(batch.Take(batch.Length - 1).ToArray()));
        }

        private System.Collections.Generic.List<ItemResult> Run(byte[][] items, string method) => _pool.Map(items, Method(method)).ToList();
    }
}
