import BoardCore

/// Answers as real language-model servers send them, for fake servers in any test target.
public enum LLMAnswers {
    /// An Ollama `/api/chat` answer (`stream: false`) carrying `content`, with token counts.
    public static func ollama(_ content: String, model: String = "llama3.2", promptTokens: Int = 26, completionTokens: Int = 298)
        -> JSONValue
    {
        [
            "model": .string(model), "created_at": "2026-01-01T00:00:00Z",
            "message": ["role": "assistant", "content": .string(content)],
            "done": true, "done_reason": "stop", "prompt_eval_count": .int(Int64(promptTokens)),
            "eval_count": .int(Int64(completionTokens)),
        ]
    }

    /// An OpenAI chat completion carrying `content`, with token counts.
    public static func openAI(_ content: String, model: String = "gpt-test", promptTokens: Int = 12, completionTokens: Int = 34)
        -> JSONValue
    {
        [
            "id": "chatcmpl-1", "object": "chat.completion", "created": 1_700_000_000, "model": .string(model),
            "choices": [["index": 0, "message": ["role": "assistant", "content": .string(content)], "finish_reason": "stop"]],
            "usage": [
                "prompt_tokens": .int(Int64(promptTokens)), "completion_tokens": .int(Int64(completionTokens)),
                "total_tokens": .int(Int64(promptTokens + completionTokens)),
            ],
        ]
    }
}
