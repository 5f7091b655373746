using System.Collections;
using System.Collections.Generic;
using System.Management.Automation;
using ProcessPool.Engine.Codec;

namespace ProcessPool.Commands.Codec
{
    /// <summary>
    /// PowerShell objects as method items and back: a PSCustomObject or hashtable becomes a JSON object, an array a
    /// JSON array, a wrapped value its base object (System.Text.Json then binds it to the method's declared types in
    /// the worker); a JSON result comes back as ConvertFrom-Json would return it (objects as PSCustomObject).
    /// </summary>
    internal static class MethodValues
    {
        public static byte[] Encode(object? value) => JsonValues.Encode(ToPlain(value, 0));

        public static object? Decode(byte[] json) => ToPowerShell(JsonValues.Decode(json));

        private static object? ToPlain(object? value, int depth)
        {
            if (depth > JsonValues.MaxDepth) return value; // the engine reports the depth with a clear error
            if (value is PSObject pso)
            {
                if (pso.BaseObject is PSCustomObject)
                {
                    var members = new List<KeyValuePair<string, object?>>();
                    foreach (var property in pso.Properties)
                        members.Add(new KeyValuePair<string, object?>(property.Name, ToPlain(property.Value, depth + 1)));
                    return members;
                }
                value = pso.BaseObject;
            }
            switch (value)
            {
                case null:
                case string _:
                    return value;
                case IDictionary dictionary:
                    var copy = new Dictionary<string, object?>();
                    foreach (DictionaryEntry entry in dictionary) copy[entry.Key?.ToString() ?? ""] = ToPlain(entry.Value, depth + 1);
                    return copy;
                case IList list when value.GetType().IsArray || value is ArrayList:
                    var items = new List<object?>(list.Count);
                    foreach (object? item in list) items.Add(ToPlain(item, depth + 1));
                    return items;
                default:
                    return value;
            }
        }

        private static object? ToPowerShell(object? value)
        {
            switch (value)
            {
                case JsonValues.Object members:
                    var result = new PSObject();
                    foreach (var member in members) result.Properties.Add(new PSNoteProperty(member.Key, ToPowerShell(member.Value)));
                    return result;
                case object?[] array:
                    for (int i = 0; i < array.Length; i++) array[i] = ToPowerShell(array[i]);
                    return array;
                default:
                    return value;
            }
        }
    }
}
