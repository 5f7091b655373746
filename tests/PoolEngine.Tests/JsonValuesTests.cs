using System;
using System.Collections;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using ProcessPool.Engine.Codec;
using ProcessPool.TestMethods;
using Xunit;

namespace ProcessPool.Engine.Tests
{
    public sealed class JsonValuesTests
    {
        private static string Json(object? value) => Encoding.UTF8.GetString(JsonValues.Encode(value));

        [Fact]
        public void Encode_PlainValues_WritesTheJsonAMethodBindsTo()
        {
            Assert.Equal("null", Json(null));
            Assert.Equal("42", Json(42));
            Assert.Equal("\"a b\"", Json("a b"));
            Assert.Equal("[1,\"x\",true]", Json(new object[] { 1, "x", true }));
            Assert.Equal("{\"A\":1,\"B\":[2.5]}", Json(new Dictionary<string, object> { ["A"] = 1, ["B"] = new[] { 2.5 } }));
        }

        [Fact]
        public void Encode_CompiledStruct_UsesItsPublicFields()
        {
            Assert.Equal("{\"X\":1,\"Y\":2}", Json(new Point { X = 1, Y = 2 }));
        }

        [Fact]
        public void Encode_FileInfo_WritesItsFullPath()
        {
            string path = Path.Combine(Path.GetTempPath(), "x.txt");
            Assert.Equal(path, JsonValues.Decode(JsonValues.Encode(new FileInfo(path))));
        }

        [Fact]
        public void Encode_SelfReferencingList_ThrowsInvalidDataInsteadOfOverflowing()
        {
            var list = new ArrayList();
            list.Add(list);
            Assert.Throws<InvalidDataException>(() => JsonValues.Encode(list));
        }

        [Fact]
        public void Decode_Result_ReadsObjectsArraysAndNumbersAsConvertFromJsonDoes()
        {
            var value = JsonValues.Decode(Encoding.UTF8.GetBytes("{\"b\":1,\"a\":[2.5,null,\"s\",false],\"big\":1e300}"));
            var members = Assert.IsType<JsonValues.Object>(value);
            Assert.Equal(new[] { "b", "a", "big" }, members.Select(m => m.Key));
            Assert.Equal(1L, members[0].Value);
            Assert.Equal(new object?[] { 2.5, null, "s", false }, Assert.IsType<object?[]>(members[1].Value));
            Assert.Equal(1e300, members[2].Value);
        }
    }
}
