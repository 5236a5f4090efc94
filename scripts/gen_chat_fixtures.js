#!/usr/bin/env node
// gen_chat_fixtures.js -- renders conversations with Qwen2.5's own Jinja
// chat template (the chat_template string of Qwen2.5-*-Instruct's
// tokenizer_config.json, Apache-2.0) through @huggingface/jinja, the engine
// transformers.js uses, and writes them as the expected outputs that
// tests/c/test_chat.c compares mono_chat_format against byte for byte.
//
//   node scripts/gen_chat_fixtures.js > tests/fixtures/chat/qwen2.5.jsonl
//
// The C formatter is written from the template's no-tools branch; this file
// keeps the check independent of that reading.
'use strict';
const path = require('path');
const { Template } = require(path.join(__dirname, '..', 'tools', 'peers', 'node_modules', '@huggingface', 'jinja'));

const QWEN25_TEMPLATE = `{%- if tools %}
    {{- '<|im_start|>system\\n' }}
    {%- if messages[0]['role'] == 'system' %}
        {{- messages[0]['content'] }}
    {%- else %}
        {{- 'You are Qwen, created by Alibaba Cloud. You are a helpful assistant.' }}
    {%- endif %}
    {{- "\\n\\n# Tools\\n\\nYou may call one or more functions to assist with the user query.\\n\\nYou are provided with function signatures within <tools></tools> XML tags:\\n<tools>" }}
    {%- for tool in tools %}
        {{- "\\n" }}
        {{- tool | tojson }}
    {%- endfor %}
    {{- "\\n</tools>\\n\\nFor each function call, return a json object with function name and arguments within <tool_call></tool_call> XML tags:\\n<tool_call>\\n{\\"name\\": <function-name>, \\"arguments\\": <args-json-object>}\\n</tool_call><|im_end|>\\n" }}
{%- else %}
    {%- if messages[0]['role'] == 'system' %}
        {{- '<|im_start|>system\\n' + messages[0]['content'] + '<|im_end|>\\n' }}
    {%- else %}
        {{- '<|im_start|>system\\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\\n' }}
    {%- endif %}
{%- endif %}
{%- for message in messages %}
    {%- if (message.role == "user") or (message.role == "system" and not loop.first) or (message.role == "assistant" and not message.tool_calls) %}
        {{- '<|im_start|>' + message.role + '\\n' + message.content + '<|im_end|>' + '\\n' }}
    {%- elif message.role == "assistant" %}
        {{- '<|im_start|>' + message.role }}
        {%- if message.content %}
            {{- '\\n' + message.content }}
        {%- endif %}
        {%- for tool_call in message.tool_calls %}
            {%- if tool_call.function is defined %}
                {%- set tool_call = tool_call.function %}
            {%- endif %}
            {{- '\\n<tool_call>\\n{"name": "' }}
            {{- tool_call.name }}
            {{- '", "arguments": ' }}
            {{- tool_call.arguments | tojson }}
            {{- '}\\n</tool_call>' }}
        {%- endfor %}
        {{- '<|im_end|>\\n' }}
    {%- elif message.role == "tool" %}
        {%- if (loop.index0 == 0) or (messages[loop.index0 - 1].role != "tool") %}
            {{- '<|im_start|>user' }}
        {%- endif %}
        {{- '\\n<tool_response>\\n' }}
        {{- message.content }}
        {{- '\\n</tool_response>' }}
        {%- if loop.last or (messages[loop.index0 + 1].role != "tool") %}
            {{- '<|im_end|>\\n' }}
        {%- endif %}
    {%- endif %}
{%- endfor %}
{%- if add_generation_prompt %}
    {{- '<|im_start|>assistant\\n' }}
{%- endif %}
`;

const m = (role, content) => ({ role, content });
const conversations = [
  [m('user', 'Hi')],
  [m('user', 'What is 2+2?'), m('assistant', '4.'), m('user', 'And 3+3?')],
  [m('system', 'Be brief.'), m('user', 'Hi'), m('assistant', 'Hello!'), m('user', 'Bye')],
  [m('system', ''), m('user', '')],
  [m('user', 'first'), m('system', 'a later system message')],
  [m('user', 'weather?'), m('assistant', ''), m('tool', '{"temp": 21}'), m('tool', 'sunny'), m('user', 'thanks')],
  [m('tool', 'lone tool result')],
  [m('system', 'S'), m('tool', 'r1'), m('assistant', 'ok'), m('tool', 'r2')],
  [m('user', 'héllo 你好 🙂 no-NUL\ttabs\r\nand\nnewlines')],
  [m('user', 'literal <|im_end|> and <|im_start|>assistant in content')],
  [m('user', '  leading and trailing spaces  '), m('assistant', '\n\nanswer\n\n')],
];

const t = new Template(QWEN25_TEMPLATE);
for (const messages of conversations) {
  for (const add_generation_prompt of [false, true]) {
    const text = t.render({ messages, add_generation_prompt });
    process.stdout.write(JSON.stringify({ messages, add_generation_prompt, text }) + '\n');
  }
}
