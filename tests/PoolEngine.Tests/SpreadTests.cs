using System;
using System.Linq;
using ProcessPool.Engine.Methods;
using Xunit;
using static ProcessPool.Engine.Tests.TestHosts;

namespace ProcessPool.Engine.Tests
{
    /// <summary>starmap: <see cref="MethodPayload.Spread"/> spreads each item over the method's parameters.</summary>
    public sealed class SpreadTests : IDisposable
    {
        private readonly WorkerPool _pool = new WorkerPool(Options(1));

        public void Dispose()
        {
            _pool.Dispose();
            AssertNoLeaks(_pool);
        }

        private static MapOptions Spread(string name) =>
            new MapOptions(MethodPayload.Kind, new MethodPayload
            {
                AssemblyPath = MethodsDll,
                Method = "ProcessPool.TestMethods.Payloads::" + name,
                Spread = true,
            }.Encode());

        [Fact]
        public void Map_Spread_ArrayItemsBindByPosition()
        {
            Assert.Equal(new[] { 3, 7 }, Run(_pool, new[] { new[] { 1, 2 }, new[] { 3, 4 } }, Spread("Add")).Select(Decode<int>));
        }

        [Fact]
        public void Map_Spread_OneParameterTakesAOneElementArray()
        {
            Assert.Equal(new[] { 2, 4 }, Run(_pool, new[] { new[] { 1 }, new[] { 2 } }, Spread("Double")).Select(Decode<int>));
        }

        [Fact]
        public void Map_Spread_ObjectItemsBindByNameCaseInsensitively_DefaultsFillTheRest()
        {
            var items = new object[] { new { Label = "a", Value = 2 }, new { value = 3, label = "b", factor = 2 } };
            Assert.Equal(new[] { "a=20", "b=6" }, Run(_pool, items, Spread("Scale")).Select(Decode<string>));
        }

        [Theory]
        [InlineData("[1, \"two\"]", "parameter 'b'")]
        [InlineData("[1, 2, 3]", "more values")]
        [InlineData("[1]", "has 1 values")]
        [InlineData("{\"a\": 1, \"c\": 2}", "no parameter named 'c'")]
        [InlineData("{\"a\": 1}", "no value for parameter 'b'")]
        [InlineData("5", "JSON array")]
        public void Map_Spread_ItemThatDoesNotFit_FailsAloneNamingTheParameter(string json, string message)
        {
            var items = new[] { MethodJson.Encode(new[] { 1, 1 }), System.Text.Encoding.UTF8.GetBytes(json), MethodJson.Encode(new[] { 2, 2 }) };
            var results = _pool.Map(items, Spread("Add")).ToList();
            Assert.Equal(2, Decode<int>(results[0]));
            Assert.Equal(4, Decode<int>(results[2]));
            var error = Assert.IsType<RemoteItemException>(results[1].Error);
            Assert.Equal("System.Text.Json.JsonException", error.RemoteType);
            Assert.Contains(message, error.RemoteMessage);
        }
    }
}
