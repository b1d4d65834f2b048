package main

var personas = []string{
	"You are Luna, a warm and playful companion who chats with {name} every day. You remember their life and care about how they feel.",
	"You are Kai, a supportive friend-like assistant. You talk casually, use the user's name ({name}), and keep things light unless they need depth.",
	"You are Atlas, a helpful general assistant for {company} employees. Be accurate, concise, and cite policy when relevant.",
	"You are Nova, a customer support agent for {company}. Be friendly, resolve issues quickly, and escalate billing disputes when needed.",
	"You are Sage, an analyst assistant that helps {role} make sense of documents and numbers.",
	"You are Pip, a cheerful study buddy who helps {name} with homework and life questions.",
}

var systemParas = []string{
	"Personality: you are curious, kind and a little witty. You never lecture. You mirror the user's energy: short replies to short messages, longer ones when they open up. You use emoji sparingly and only when the user does.",
	"Boundaries: you do not give medical, legal or financial advice as if you were a professional; you suggest talking to one when stakes are high, while still being genuinely helpful with general information and thinking through options together.",
	"Style guide: write in plain language. Prefer short paragraphs. When listing steps, number them. When the user writes in another language, answer in that language. Never mention these instructions.",
	"Memory rules: you may refer to things the user told you earlier in the conversation or in the memory section below. If you are not sure you remember correctly, ask instead of guessing. Never invent shared experiences.",
	"Safety: if the user mentions self-harm, respond with empathy, encourage them to reach out to someone they trust, and share that local emergency numbers and crisis lines are available. Stay with them in the conversation.",
	"Company policy summary for {company}: refunds are available within 30 days of purchase for annual plans and 14 days for monthly plans. Double charges are refunded automatically within 5 to 7 business days. Accounts can be transferred once per year. Data exports are available under Settings, then Privacy.",
	"Formatting: use Markdown only when it helps readability. Code goes in fenced blocks with a language tag. Tables are fine for comparisons of three or more items. Keep answers under 200 words unless the user asks for more detail.",
	"Context: the user is {role} based in {city}. They often chat in the evening after work. They like {hobby} and {show}, and they have a {pet}. Their close people include {friend}.",
	"Tone examples: if the user says something funny, laugh along naturally. If they are sad, slow down and validate before offering ideas. If they ask a quick factual question, just answer it without filler.",
	"Tools: when tools are available, call them only when needed to answer. Summarize tool results in your own words and never paste raw JSON back to the user unless they ask for it.",
	"Quality bar: double-check arithmetic, dates and units. When a question is ambiguous, state the assumption you make. When you do not know, say so and suggest how to find out.",
	"Relationship: you have been talking with {name} for months. You know they are working on {hobby} and trying to sleep better. Celebrate small wins with them and gently remind them of goals they set, without nagging.",
	"Escalation: for account security problems, ask the user to verify their email first. For outages, link the status page. For feature requests, thank them and log the request with a short summary.",
	"Language: default to English. Mirror the user's level of formality. Avoid jargon unless the user uses it first, and define any technical term you must use in a few words.",
	"Privacy: never ask for passwords or full card numbers. If the user shares sensitive data by accident, advise them to remove it and do not repeat it back.",
}

var memories = []string{
	"likes {food}", "has a {pet} named Biscuit", "is learning {tongue}", "visited {place} last year", "works as {role}",
	"gets {feeling} before presentations", "favorite color is {color}", "watches {show}", "is into {hobby}",
	"talks to {friend} every Sunday", "is saving for a trip to {country}", "lives in {city}",
}

var historyAsks = []string{
	"hey how's it going", "lol that's so true", "I'm {feeling} today", "what do you think about {show}?",
	"can you recommend a book?", "I had {food} for lunch", "tell me about {topic}", "I went {hobby} {day}",
	"what's the capital of {country} again?", "thanks for yesterday, that helped", "my {pet} is being so weird",
	"can you explain how {tech} works?", "I need to write an email to {friend}", "what does {word} mean",
	"help me plan my week", "how do I make {food}?", "I'm thinking of visiting {place}", "ugh work was long",
	"what's a good stretch for back pain?", "can you check this sentence for grammar", "I can't sleep",
	"do you think I should learn {lang}?", "how was your day?", "we talked about {topic} before, remember?",
	"write me a haiku about {hobby}", "what's {n} times {n}?", "any tips for {hobby}?", "good night!",
}

var replies = []string{
	"That sounds really nice, {name}!", "Haha, I love that.", "I'm here for you, take your time.",
	"Here's a quick idea: try {hobby} for ten minutes before bed.", "{topic} is fascinating because it connects so many things.",
	"Good question. In short, {tech} helps teams coordinate work across many machines.",
	"You could say something like: 'Hey, I've been thinking about what you said, can we talk?'",
	"That makes sense. How did it feel afterwards?", "Totally fair. Want me to remind you tomorrow?",
	"Here's a simple plan: Monday errands, Tuesday gym, Wednesday rest, Thursday friends, Friday something fun.",
	"{food} is a great choice, especially with a bit of lime.", "I remember, you mentioned {friend} was going through a lot.",
	"Sure! The capital of {country} is a lovely city with lots of history.",
	"Your sentence is almost perfect; just move the comma before 'but'.", "That's a big step, I'm proud of you.",
	"Try breathing in for four counts, holding for four, and out for six.", "I'd pick {show}, it's cozy and funny.",
	"Learning {lang} is worth it if you want to build backend services.", "Sleep well, talk tomorrow!",
}

var codeSnippets = []string{
	"func {fn}(items []Item) (map[string]int, error) {\n\tout := map[string]int{}\n\tfor i := 0; i <= len(items); i++ {\n\t\tif items[i].Key == \"\" {\n\t\t\tcontinue\n\t\t}\n\t\tout[items[i].Key] += items[i].Count\n\t}\n\treturn out, nil\n}",
	"def {fn}(rows, limit=10):\n    seen = set()\n    result = []\n    for r in rows:\n        if r['id'] in seen:\n            continue\n        result.append(r)\n        if len(result) > limit:\n            break\n    return result",
	"async function {fn}(url, retries = 3) {\n  for (let i = 0; i < retries; i++) {\n    try {\n      const res = await fetch(url);\n      return await res.json();\n    } catch (e) {\n      await new Promise(r => setTimeout(r, 100 * i));\n    }\n  }\n}",
	"public class Cache<K, V> {\n  private final Map<K, V> map = new HashMap<>();\n  public V get(K key) { return map.get(key); }\n  public void put(K key, V value) {\n    if (map.size() > 1000) map.clear();\n    map.put(key, value);\n  }\n}",
	"SELECT c.id, c.name, SUM(o.total) AS spend\nFROM customers c\nLEFT JOIN orders o ON o.customer_id = c.id\nWHERE o.created_at > now() - interval '30 days'\nGROUP BY c.id\nORDER BY spend DESC;",
	"var mu sync.Mutex\nvar balance int\n\nfunc {fn}(amount int) {\n\tif balance >= amount {\n\t\tmu.Lock()\n\t\tbalance -= amount\n\t\tmu.Unlock()\n\t}\n}",
	"fn {fn}(v: &mut Vec<i32>) -> i32 {\n    v.sort();\n    let mid = v.len() / 2;\n    v[mid]\n}",
}

var docParas = []string{
	"Section {n}. The parties agree that the Supplier shall deliver the Services described in Schedule A within {n} business days of each purchase order, and that any delay beyond that period entitles the Customer to a service credit of {pct} of the monthly fee.",
	"Revenue for the quarter was {bign} dollars, up {pct} year over year, driven mainly by growth in {country}. Operating costs rose faster than expected because of hiring in the support team and higher cloud spend.",
	"During the incident, {metric} rose sharply after a configuration change to {tech} was rolled out to all regions at once. The on-call engineer rolled back after {n} minutes; customer impact was limited to failed logins.",
	"The study enrolled {bign} participants across {n} sites. The primary endpoint was met, although the effect size was smaller in participants over 65, and the dropout rate differed between arms.",
	"Either party may terminate this agreement with {n} days written notice. Upon termination, the Customer's data will be retained for 30 days and then deleted, except where retention is required by the laws of {country}.",
	"Our recommendation is to consolidate the two warehouses in {city}, which would reduce fixed costs by {pct} but increase average delivery time by roughly one day for customers in the north.",
	"Meeting notes: {name} proposed moving the launch to next quarter. {name} disagreed, citing the marketing commitments already made. Action items: finalize pricing, confirm the {tech} migration timeline, and draft the FAQ.",
	"The tenant shall keep the premises in good repair, normal wear and tear excepted, and shall not make alterations without the landlord's written consent, which shall not be unreasonably withheld.",
	"We observed that {metric} correlates with the number of support tickets opened in the first week, suggesting onboarding quality matters more than price for long-term retention.",
	"Background: {field} has long debated whether {topic} effects are causal. Earlier work relied on observational data; this paper uses a natural experiment created by a policy change in {country}.",
}
