package knowledge

// stopwords are function words that say nothing about a topic. They are
// folded with Fold when a Matcher is built, so each list is written in the
// language's own spelling. Question words (where, how) are kept out of the
// features too: every example question has them.
func stopwords() []string {
	return []string{
		// pl
		"a", "aby", "albo", "ale", "bo", "by", "być", "czy", "co", "do", "gdzie", "i", "ile", "jak", "jaki", "jaka", "jakie",
		"jest", "jestem", "już", "kiedy", "ktoś", "który", "która", "które", "mam", "mi", "mnie", "mogę", "moje", "mój",
		"moja", "może", "na", "nie", "o", "od", "po", "przez", "się", "są", "ta", "tak", "to", "ten", "tu", "tym", "u",
		"w", "we", "z", "za", "ze", "że", "żeby", "proszę", "jeśli", "jeżeli", "dla", "teraz", "trzeba", "muszę", "czym",
		"coś", "tego", "tej", "mój", "moim", "mojej", "jego", "jej", "oraz", "lub", "bardzo", "tylko", "jeszcze",
		// en
		"a", "an", "and", "any", "are", "as", "at", "be", "can", "could", "do", "does", "for", "from", "get", "have",
		"how", "i", "if", "in", "is", "it", "me", "my", "of", "on", "or", "please", "should", "so", "the", "there",
		"this", "to", "what", "when", "where", "which", "who", "will", "with", "would", "you", "your", "im", "am",
		"was", "has", "had", "do", "did", "need", "want", "about", "now", "just", "we", "our", "it's", "i'm",
		// uk
		"а", "але", "в", "у", "від", "до", "для", "де", "з", "за", "і", "й", "та", "чи", "як", "яка", "який", "які",
		"що", "це", "мені", "мене", "мій", "моя", "моє", "мої", "на", "не", "по", "про", "при", "так", "треба", "можна",
		"можу", "я", "ми", "ви", "вже", "коли", "скільки", "будь", "ласка", "щоб", "якщо", "ще", "із", "зі", "о",
		// ru
		"а", "в", "во", "где", "да", "для", "до", "же", "за", "и", "из", "как", "какая", "какой", "какие", "когда",
		"ли", "мне", "меня", "мой", "моя", "мои", "можно", "на", "не", "нужно", "надо", "о", "об", "по", "при",
		"про", "с", "со", "сколько", "так", "то", "у", "что", "чтобы", "это", "я", "мы", "вы", "уже", "если", "еще",
		"ещё", "пожалуйста",
	}
}
