using System;
using System.Linq;
using System.Linq.Expressions;
using System.Reflection;
using System.Text.Json;
using System.Threading.Tasks;

namespace ProcessPool.Engine.Methods
{
    /// <summary>
    /// Calls one static method with an item in the <see cref="MethodJson"/> forms and returns its result in the same
    /// form. The call goes through a typed or compiled delegate, not MethodInfo.Invoke, because it sits on the hot
    /// path of every item.
    /// </summary>
    internal sealed class MethodInvoker
    {
        private readonly MethodInfo _method;
        private readonly Type[] _parameterTypes;
        private Func<object?[], object?>? _call;
        private readonly TypedCall? _typed;
        private readonly Type? _resultType;
        private readonly Func<object, object?>? _taskResult;
        private readonly bool _isTask;
        private readonly bool _spread;
        private System.Text.Json.Serialization.Metadata.JsonTypeInfo[]? _parameterInfos;
        private System.Text.Json.Serialization.Metadata.JsonTypeInfo? _resultInfo;

        public MethodInvoker(MethodInfo method, bool spread = false)
        {
            _method = method;
            _parameterTypes = method.GetParameters().Select(p => p.ParameterType).ToArray();
            if (_parameterTypes.Any(t => t.IsByRef))
                throw new ArgumentException($"'{MethodResolver.Describe(method)}' has ref or out parameters, which a pool cannot pass.");
            _spread = spread || _parameterTypes.Length > 1;
            // A one-parameter method is called through a typed delegate (no Expression.Compile at a worker's first map,
            // no boxing on the binary path); the others through a compiled delegate, built on first use.
            _typed = _parameterTypes.Length == 1 ? TypedCall.TryCreate(method) : null;

            Type returnType = method.ReturnType;
            if (typeof(Task).IsAssignableFrom(returnType))
            {
                _isTask = true;
                if (returnType.IsGenericType && returnType.GetGenericTypeDefinition() == typeof(Task<>))
                {
                    _resultType = returnType.GetGenericArguments()[0];
                    var task = Expression.Parameter(typeof(object));
                    var body = Expression.Convert(Expression.Property(Expression.Convert(task, returnType), "Result"), typeof(object));
                    _taskResult = Expression.Lambda<Func<object, object?>>(body, task).Compile();
                }
            }
            else if (returnType != typeof(void))
            {
                _resultType = returnType;
            }
        }

        public string Name => MethodResolver.Describe(_method);

        /// <summary>System.Text.Json metadata, resolved on first use (the per-call lookup by Type is measurable at a million
        /// items, and a worker that only sees binary items never pays for it).</summary>
        private System.Text.Json.Serialization.Metadata.JsonTypeInfo ParameterInfo(int index) =>
            (_parameterInfos ??= _parameterTypes.Select(t => MethodJson.Options.GetTypeInfo(t)).ToArray())[index];

        private System.Text.Json.Serialization.Metadata.JsonTypeInfo ResultInfo => _resultInfo ??= MethodJson.Options.GetTypeInfo(_resultType!);

        private static Func<object?[], object?> Compile(MethodInfo method, Type[] parameterTypes)
        {
            var args = Expression.Parameter(typeof(object?[]), "args");
            var arguments = parameterTypes.Select((t, i) => (Expression)Expression.Convert(Expression.ArrayIndex(args, Expression.Constant(i)), t));
            Expression call = Expression.Call(method, arguments);
            call = method.ReturnType == typeof(void)
                ? Expression.Block(call, Expression.Constant(null, typeof(object)))
                : Expression.Convert(call, typeof(object));
            return Expression.Lambda<Func<object?[], object?>>(call, args).Compile();
        }

        private object? Call(object?[] arguments) =>
            _typed != null && arguments.Length == 1 ? _typed.CallBoxed(arguments[0]) : (_call ??= Compile(_method, _parameterTypes))(arguments);

        /// <summary>
        /// Runs the method on one item (or, for a <see cref="MethodBatch"/>, on each of its elements); returns the
        /// encoded result, or null when the method returns nothing. A binary item gets a binary result where the
        /// result has that form, a JSON item a JSON one.
        /// </summary>
        public byte[]? Invoke(ArraySegment<byte> item)
        {
            var data = item.AsSpan();
            if (data.Length > 0 && data[0] == MethodPrimitives.Batch) return InvokeBatch(data);
            return InvokeOne(data);
        }

        private byte[]? InvokeOne(ReadOnlySpan<byte> item)
        {
            bool binary = MethodPrimitives.IsBinary(item);
            if (binary && !_spread && _typed != null && _typed.TryInvokeBinary(item, out var direct)) return direct;
            object? result = Call(Bind(item, binary));
            if (_isTask)
            {
                if (result == null) throw new InvalidOperationException($"'{Name}' returned a null Task.");
                var task = (Task)result;
                task.GetAwaiter().GetResult();
                if (_taskResult == null) return null;
                result = _taskResult(task);
            }
            if (_resultType == null) return null;
            if (binary && MethodPrimitives.TryEncodeBoxed(result) is byte[] encoded) return encoded;
            if (_resultType == typeof(object) && result != null)
                return JsonSerializer.SerializeToUtf8Bytes(result, result.GetType(), MethodJson.Options);
            return JsonSerializer.SerializeToUtf8Bytes(result, ResultInfo);
        }

        /// <summary>
        /// Each element in turn; the results as one batch. Packed values of the parameter's own type into a packed
        /// result type take the typed loop (no allocation per element); anything else goes element by element as
        /// <see cref="InvokeOne"/> would. An element that throws fails the batch, naming the element.
        /// </summary>
        private byte[] InvokeBatch(ReadOnlySpan<byte> data)
        {
            var batch = new MethodBatch.Reader(data);
            if (!_spread && _typed != null && batch.Width > 0 && _typed.TryInvokePacked(batch.ElementTag, batch.Packed, batch.Count, out var packed)) return packed;
            var results = new byte[batch.Count][];
            long total = 0;
            var scratch = new byte[9];
            for (int i = 0; i < results.Length; i++)
            {
                try { results[i] = InvokeOne(batch.NextItem(scratch)) ?? Null; }
                catch (Exception error) { throw new BatchElementException(i, error); }
                total += 4 + results[i].Length;
            }
            var output = MethodBatch.Header(0, results.Length, checked((int)total));
            int offset = 6;
            foreach (var result in results)
            {
                System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(output.AsSpan(offset), result.Length);
                Buffer.BlockCopy(result, 0, output, offset + 4, result.Length);
                offset += 4 + result.Length;
            }
            return output;
        }

        private static readonly byte[] Null = System.Text.Encoding.UTF8.GetBytes("null");

        /// <summary>Runs the method with arguments given as one JSON array text (initializers and finalizers).</summary>
        public void InvokeWithArguments(string? jsonArray)
        {
            byte[] data = System.Text.Encoding.UTF8.GetBytes(string.IsNullOrWhiteSpace(jsonArray) ? "[]" : jsonArray);
            object? result = Call(BindArray(data, requireExactCount: true));
            if (result is Task task) task.GetAwaiter().GetResult();
        }

        private object?[] Bind(ReadOnlySpan<byte> item, bool binary)
        {
            if (_parameterTypes.Length == 0) return Array.Empty<object?>();
            if (binary)
            {
                // Its own type as it is; any other parameter type through the value's JSON text, so the JSON rules apply.
                if (!_spread && MethodPrimitives.TypeOf(item[0]) == _parameterTypes[0]) return new[] { MethodPrimitives.DecodeBoxed(item) };
                item = MethodPrimitives.ToJson(item);
            }
            if (!_spread) return new[] { Deserialize(item, 0) };
            return BindArray(item, requireExactCount: true);
        }

        private object?[] BindArray(ReadOnlySpan<byte> item, bool requireExactCount)
        {
            var values = new object?[_parameterTypes.Length];
            var reader = new Utf8JsonReader(item);
            bool read = reader.Read();
            if (read && reader.TokenType == JsonTokenType.StartObject) return BindNamed(ref reader, values);
            if (!read || reader.TokenType != JsonTokenType.StartArray)
                throw new JsonException($"'{Name}' takes {_parameterTypes.Length} parameters, so each item must be a JSON array of {_parameterTypes.Length} values (or an object with a property per parameter).");
            int index = 0;
            while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
            {
                if (index >= values.Length)
                    throw new JsonException($"'{Name}' takes {_parameterTypes.Length} parameters, but the item has more values.");
                try { values[index] = JsonSerializer.Deserialize(ref reader, _parameterTypes[index], MethodJson.Options); }
                catch (JsonException error) { throw Mismatch(index, error); }
                index++;
            }
            if (requireExactCount && index != values.Length)
                throw new JsonException($"'{Name}' takes {_parameterTypes.Length} parameters, but the item has {index} values.");
            return values;
        }

        /// <summary>A JSON object spread by name, as PowerShell splats a hashtable: each property to the parameter of that name (case-insensitive); a parameter it leaves out takes its default value when it has one.</summary>
        private object?[] BindNamed(ref Utf8JsonReader reader, object?[] values)
        {
            var parameters = _method.GetParameters();
            var given = new bool[values.Length];
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                string name = reader.GetString() ?? "";
                int index = Array.FindIndex(parameters, p => string.Equals(p.Name, name, StringComparison.OrdinalIgnoreCase));
                if (index < 0)
                    throw new JsonException($"'{Name}' has no parameter named '{name}'.");
                reader.Read();
                try { values[index] = JsonSerializer.Deserialize(ref reader, _parameterTypes[index], MethodJson.Options); }
                catch (JsonException error) { throw Mismatch(index, error); }
                given[index] = true;
            }
            for (int i = 0; i < values.Length; i++)
            {
                if (given[i]) continue;
                if (!parameters[i].HasDefaultValue)
                    throw new JsonException($"The item gives no value for parameter '{parameters[i].Name}' of '{Name}'.");
                values[i] = parameters[i].DefaultValue;
            }
            return values;
        }

        private object? Deserialize(ReadOnlySpan<byte> json, int index)
        {
            try { return JsonSerializer.Deserialize(json, ParameterInfo(index)); }
            catch (JsonException error) { throw Mismatch(index, error); }
        }

        private JsonException Mismatch(int index, JsonException error) =>
            new JsonException($"The item does not convert to parameter '{_method.GetParameters()[index].Name}' ({_parameterTypes[index].FullName}) of '{Name}': {error.Message}", error);
    }
}
