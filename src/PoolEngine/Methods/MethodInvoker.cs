using System;
using System.Linq;
using System.Linq.Expressions;
using System.Reflection;
using System.Text.Json;
using System.Threading.Tasks;

namespace ProcessPool.Engine.Methods
{
    /// <summary>
    /// Calls one static method with JSON arguments and returns its JSON result. The call goes through a compiled
    /// delegate, not MethodInfo.Invoke, because it sits on the hot path of every item.
    /// </summary>
    internal sealed class MethodInvoker
    {
        private readonly MethodInfo _method;
        private readonly Type[] _parameterTypes;
        private readonly Func<object?[], object?> _call;
        private readonly Type? _resultType;
        private readonly Func<object, object?>? _taskResult;
        private readonly bool _isTask;
        private readonly bool _spread;
        private readonly System.Text.Json.Serialization.Metadata.JsonTypeInfo[] _parameterInfos;
        private readonly System.Text.Json.Serialization.Metadata.JsonTypeInfo? _resultInfo;

        public MethodInvoker(MethodInfo method, bool spread = false)
        {
            _method = method;
            _parameterTypes = method.GetParameters().Select(p => p.ParameterType).ToArray();
            if (_parameterTypes.Any(t => t.IsByRef))
                throw new ArgumentException($"'{MethodResolver.Describe(method)}' has ref or out parameters, which a pool cannot pass.");
            _spread = spread || _parameterTypes.Length > 1;
            // Type metadata resolved once: the per-call lookup by Type is measurable at a million items.
            _parameterInfos = _parameterTypes.Select(t => MethodJson.Options.GetTypeInfo(t)).ToArray();
            _call = Compile(method, _parameterTypes);

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
            if (_resultType != null) _resultInfo = MethodJson.Options.GetTypeInfo(_resultType);
        }

        public string Name => MethodResolver.Describe(_method);

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

        /// <summary>Runs the method on one JSON item; returns the JSON result, or null when the method returns nothing.</summary>
        public byte[]? Invoke(ArraySegment<byte> item)
        {
            object?[] arguments = Bind(item);
            object? result = _call(arguments);
            if (_isTask)
            {
                if (result == null) throw new InvalidOperationException($"'{Name}' returned a null Task.");
                var task = (Task)result;
                task.GetAwaiter().GetResult();
                if (_taskResult == null) return null;
                result = _taskResult(task);
            }
            if (_resultType == null) return null;
            if (_resultType == typeof(object) && result != null)
                return JsonSerializer.SerializeToUtf8Bytes(result, result.GetType(), MethodJson.Options);
            return JsonSerializer.SerializeToUtf8Bytes(result, _resultInfo!);
        }

        /// <summary>Runs the method with arguments given as one JSON array text (initializers and finalizers).</summary>
        public void InvokeWithArguments(string? jsonArray)
        {
            byte[] data = System.Text.Encoding.UTF8.GetBytes(string.IsNullOrWhiteSpace(jsonArray) ? "[]" : jsonArray);
            object? result = _call(BindArray(new ArraySegment<byte>(data), requireExactCount: true));
            if (result is Task task) task.GetAwaiter().GetResult();
        }

        private object?[] Bind(ArraySegment<byte> item)
        {
            if (_parameterTypes.Length == 0) return Array.Empty<object?>();
            if (!_spread) return new[] { Deserialize(item.AsSpan(), _parameterTypes[0], 0) };
            return BindArray(item, requireExactCount: true);
        }

        private object?[] BindArray(ArraySegment<byte> item, bool requireExactCount)
        {
            var values = new object?[_parameterTypes.Length];
            var reader = new Utf8JsonReader(item.AsSpan());
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

        private object? Deserialize(ReadOnlySpan<byte> json, Type type, int index)
        {
            try { return JsonSerializer.Deserialize(json, _parameterInfos[index]); }
            catch (JsonException error) { throw Mismatch(index, error); }
        }

        private JsonException Mismatch(int index, JsonException error) =>
            new JsonException($"The item does not convert to parameter '{_method.GetParameters()[index].Name}' ({_parameterTypes[index].FullName}) of '{Name}': {error.Message}", error);
    }
}
