using System;
using System.Collections;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Text.Json;
using ProcessPool.Engine.Methods;

namespace ProcessPool.Engine.Codec
{
    /// <summary>
    /// Items and results of method maps as plain values: the PowerShell side turns its objects into dictionaries,
    /// lists and primitives, this class writes them as the JSON the worker binds to the method's declared parameter
    /// types (<see cref="MethodJson"/>), and reads a JSON result back as plain values
    /// (objects as <see cref="JsonValues.Object"/>, arrays as <c>object?[]</c>, integers as <see cref="long"/>).
    /// </summary>
    public static class JsonValues
    {
        /// <summary>Deepest nesting written or read; deeper input is a mistake (or a cycle), and says so.</summary>
        public const int MaxDepth = 64;

        /// <summary>A JSON object read back: its members in document order.</summary>
        public sealed class Object : List<KeyValuePair<string, object?>>
        {
        }

        /// <summary>Writes a plain value as JSON. Dictionaries become objects, other enumerables arrays, file system objects their full path.</summary>
        public static byte[] Encode(object? value)
        {
            using var buffer = new MemoryStream();
            using (var writer = new Utf8JsonWriter(buffer))
                Write(writer, value, 0);
            return buffer.ToArray();
        }

        /// <summary>Reads a JSON result as plain values.</summary>
        public static object? Decode(byte[] json)
        {
            using var document = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = MaxDepth });
            return Read(document.RootElement);
        }

        private static void Write(Utf8JsonWriter writer, object? value, int depth)
        {
            if (depth > MaxDepth) throw new InvalidDataException($"The value nests deeper than {MaxDepth} levels (or refers to itself); it cannot be written as JSON.");
            switch (value)
            {
                case null: writer.WriteNullValue(); break;
                case string s: writer.WriteStringValue(s); break;
                case char c: writer.WriteStringValue(c.ToString()); break;
                case bool b: writer.WriteBooleanValue(b); break;
                case int i: writer.WriteNumberValue(i); break;
                case long l: writer.WriteNumberValue(l); break;
                case short i16: writer.WriteNumberValue(i16); break;
                case byte u8: writer.WriteNumberValue(u8); break;
                case sbyte i8: writer.WriteNumberValue(i8); break;
                case ushort u16: writer.WriteNumberValue(u16); break;
                case uint u32: writer.WriteNumberValue(u32); break;
                case ulong u64: writer.WriteNumberValue(u64); break;
                case double d: writer.WriteNumberValue(d); break;
                case float f: writer.WriteNumberValue(f); break;
                case decimal m: writer.WriteNumberValue(m); break;
                case DateTime t: writer.WriteStringValue(t); break;
                case DateTimeOffset o: writer.WriteStringValue(o); break;
                case Guid g: writer.WriteStringValue(g); break;
                case TimeSpan span: writer.WriteStringValue(span.ToString("c", CultureInfo.InvariantCulture)); break;
                case Enum e: writer.WriteNumberValue(Convert.ToInt64(e, CultureInfo.InvariantCulture)); break;
                case FileSystemInfo file: writer.WriteStringValue(file.FullName); break;
                case IDictionary dictionary:
                    writer.WriteStartObject();
                    foreach (DictionaryEntry entry in dictionary)
                    {
                        writer.WritePropertyName(Convert.ToString(entry.Key, CultureInfo.InvariantCulture) ?? "");
                        Write(writer, entry.Value, depth + 1);
                    }
                    writer.WriteEndObject();
                    break;
                case IEnumerable<KeyValuePair<string, object?>> members:
                    writer.WriteStartObject();
                    foreach (var member in members)
                    {
                        writer.WritePropertyName(member.Key);
                        Write(writer, member.Value, depth + 1);
                    }
                    writer.WriteEndObject();
                    break;
                case IEnumerable sequence:
                    writer.WriteStartArray();
                    foreach (object? element in sequence) Write(writer, element, depth + 1);
                    writer.WriteEndArray();
                    break;
                default:
                    // A compiled type (a struct, a record): its public properties and fields, as the worker's binder expects.
                    JsonSerializer.Serialize(writer, value, value.GetType(), MethodJson.Options);
                    break;
            }
        }

        private static object? Read(JsonElement element)
        {
            switch (element.ValueKind)
            {
                case JsonValueKind.Null:
                case JsonValueKind.Undefined:
                    return null;
                case JsonValueKind.True: return true;
                case JsonValueKind.False: return false;
                case JsonValueKind.String: return element.GetString();
                case JsonValueKind.Number:
                    // As ConvertFrom-Json does: whole numbers as Int64, the rest as Double.
                    return element.TryGetInt64(out long l) ? l : (object)element.GetDouble();
                case JsonValueKind.Array:
                    var array = new object?[element.GetArrayLength()];
                    int i = 0;
                    foreach (var item in element.EnumerateArray()) array[i++] = Read(item);
                    return array;
                case JsonValueKind.Object:
                    var members = new Object();
                    foreach (var property in element.EnumerateObject()) members.Add(new KeyValuePair<string, object?>(property.Name, Read(property.Value)));
                    return members;
                default:
                    throw new InvalidDataException($"Unexpected JSON token {element.ValueKind}.");
            }
        }
    }
}
